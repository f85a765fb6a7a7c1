// Backpressure on a node stream: wait until a writer that said "stop" may write again.

/** Resolves at 'drain', or at 'close' when the stream went away meanwhile (then writing stops anyway). */
export function drained(stream: NodeJS.EventEmitter & { readonly destroyed: boolean }): Promise<void> {
  if (stream.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done)
      stream.off('close', done)
      resolve()
    }
    stream.on('drain', done)
    stream.on('close', done)
  })
}
