// The script's stderr, line by line, to a log (Apache copies it into its error log, C-20). Read as fast
// as it comes, so a script that writes a lot there never blocks on it.
import type { Readable } from 'node:stream'
import { StringDecoder } from 'node:string_decoder'

/** Longer lines are logged in pieces of this many characters. */
export const MAX_LINE = 16 * 1024

/** Sends each line of `stream` (LF or CRLF, UTF-8) to `log`; a logger that throws loses its line only. */
export function logLines(stream: Readable, log: (line: string) => void): void {
  const decoder = new StringDecoder('utf8')
  let pending = ''
  const emit = (line: string): void => {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line
    for (let at = 0; at === 0 || at < text.length; at += MAX_LINE) {
      try {
        log(text.slice(at, at + MAX_LINE))
      } catch {
        // A logger's own failure must not become an uncaught exception in a stream handler.
      }
    }
  }
  stream.on('data', (chunk: Buffer) => {
    pending += decoder.write(chunk)
    let start = 0
    for (let lf = pending.indexOf('\n'); lf !== -1; lf = pending.indexOf('\n', start)) {
      emit(pending.slice(start, lf))
      start = lf + 1
    }
    pending = pending.slice(start)
    while (pending.length > MAX_LINE) {
      emit(pending.slice(0, MAX_LINE))
      pending = pending.slice(MAX_LINE)
    }
  })
  // 'close' also comes when the pipe is destroyed (a killed run); 'end' only at EOF.
  stream.once('close', () => {
    pending += decoder.end()
    if (pending !== '') emit(pending)
    pending = ''
  })
}

/** The default log: `cgi: <script>: <line>` on the host's stderr. */
export function defaultLog(script: string): (line: string) => void {
  return (line) => {
    process.stderr.write(`cgi: ${script}: ${line}\n`)
  }
}
