// Keeps a server command running until SIGINT/SIGTERM (or the caller's signal): the first stop closes
// gracefully, a second one cuts the connections still open.
import type { Server } from 'node:http'

interface Stoppable {
  server: Server
  close(): Promise<void>
}

interface StopIo {
  stderr: (text: string) => void
  signal?: AbortSignal
}

export async function untilStopped(running: Stoppable, io: StopIo): Promise<number> {
  let stops = 0
  let stopped: () => void = () => {}
  const firstStop = new Promise<void>((resolve) => (stopped = resolve))
  const onStop = (): void => {
    stops++
    if (stops === 1) stopped()
    else running.server.closeAllConnections()
  }
  process.on('SIGINT', onStop)
  process.on('SIGTERM', onStop)
  io.signal?.addEventListener('abort', onStop)
  if (io.signal?.aborted) onStop()
  try {
    await firstStop
    io.stderr('tsgi: stopping (press Ctrl-C again to cut open connections)\n')
    await running.close()
    return 0
  } finally {
    process.off('SIGINT', onStop)
    process.off('SIGTERM', onStop)
    io.signal?.removeEventListener('abort', onStop)
  }
}
