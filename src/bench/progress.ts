// A one-line progress bar for a terminal: redrawn in place with a carriage return, erased at the end.

export interface Progress {
  update(done: number, total: number, what: string): void
  clear(): void
}

export function progressBar(write: (text: string) => void, columns = 80): Progress {
  let last = ''
  const started = performance.now()
  return {
    update(done, total, what) {
      const width = 24
      const share = total > 0 ? Math.min(1, done / total) : 0
      const filled = Math.round(share * width)
      const seconds = ((performance.now() - started) / 1000).toFixed(0)
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}% ${seconds} s ${what}`
      const text = bar.slice(0, columns - 1).padEnd(last.length)
      last = text.trimEnd()
      write(`\r${text}`)
    },
    clear() {
      if (last !== '') write(`\r${' '.repeat(last.length)}\r`)
      last = ''
    },
  }
}
