// The app `npm run soak` serves (scripts/soak.ts): a greeting, a 1 MiB upload it hashes, a 1 MiB
// download in 64 KiB chunks, and a slow answer that gives up when the client does (tsgi.signal).
import { createHash } from 'node:crypto'

export const MIB = 1024 * 1024
/** The download's bytes: the client computes the same pattern to check every byte arrived. */
export const PATTERN = Buffer.from(Array.from({ length: MIB }, (_, i) => (i * 31 + (i >> 12)) & 255))

export default async function app(environ, startResponse) {
  const path = environ.SCRIPT_NAME + environ.PATH_INFO
  const text = (body) => {
    startResponse('200 OK', [['Content-Type', 'text/plain']])
    return [body]
  }
  if (path === '/upload') {
    const hash = createHash('sha256')
    let bytes = 0
    for await (const chunk of environ['tsgi.input']) {
      hash.update(chunk)
      bytes += chunk.length
    }
    return text(`got ${bytes} sha256 ${hash.digest('hex')}`)
  }
  if (path === '/big') {
    startResponse('200 OK', [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', String(MIB)],
    ])
    return (function* () {
      for (let at = 0; at < MIB; at += 65536) yield PATTERN.subarray(at, at + 65536)
    })()
  }
  if (path === '/slow') {
    const signal = environ['tsgi.signal']
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, Number(new URLSearchParams(environ.QUERY_STRING).get('ms') ?? 100))
      signal.addEventListener('abort', () => resolve(clearTimeout(timer)), { once: true })
    })
    if (signal.aborted) return []
  }
  return text(`pid ${process.pid}`)
}
