// Bench fixture for large bodies: /sink reads and drops the request body, /blob answers 1 MiB from one
// shared buffer, /stream?bytes=N streams N bytes out in 64 KiB chunks (nothing is ever held whole).
import type { Environ, StartResponse } from '../../../src/app.js'

const BLOB = Buffer.alloc(1024 * 1024, 0x62)
const CHUNK = Buffer.alloc(64 * 1024, 0x63)

export default async function bulk(
  environ: Environ,
  startResponse: StartResponse,
): Promise<Iterable<Uint8Array | string>> {
  const path = `${environ.SCRIPT_NAME}${environ.PATH_INFO}`
  if (path === '/sink') {
    let length = 0
    for await (const chunk of environ['tsgi.input']) length += chunk.byteLength
    const text = `length: ${length}\n`
    startResponse('200 OK', [
      ['Content-Type', 'text/plain'],
      ['Content-Length', String(text.length)],
    ])
    return [text]
  }
  if (path === '/blob') {
    startResponse('200 OK', [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', String(BLOB.length)],
    ])
    return [BLOB]
  }
  if (path === '/stream') {
    const bytes = Number(/(?:^|&)bytes=(\d+)/.exec(environ.QUERY_STRING)?.[1] ?? CHUNK.length)
    startResponse('200 OK', [
      ['Content-Type', 'application/octet-stream'],
      ['Content-Length', String(bytes)],
    ])
    return chunks(bytes)
  }
  startResponse('404 Not Found', [['Content-Type', 'text/plain']])
  return ['not found\n']
}

function* chunks(bytes: number): Generator<Uint8Array> {
  for (let left = bytes; left > 0; left -= CHUNK.length) yield left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left)
}
