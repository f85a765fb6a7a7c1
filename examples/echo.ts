// Reports the request: method, path, query, and the body's length and SHA-256. Reads the body
// incrementally, so a 10 MiB POST never sits in memory whole.
import { createHash } from 'node:crypto'
import type { Environ, StartResponse } from '../src/app.js'

export default async function echo(environ: Environ, startResponse: StartResponse): Promise<string[]> {
  const hash = createHash('sha256')
  let length = 0
  for await (const chunk of environ['tsgi.input']) {
    hash.update(chunk)
    length += chunk.byteLength
  }
  const body = [
    `method: ${environ.REQUEST_METHOD}`,
    `path: ${environ.SCRIPT_NAME}${environ.PATH_INFO}`,
    `query: ${environ.QUERY_STRING}`,
    `length: ${length}`,
    `sha256: ${hash.digest('hex')}`,
  ].join('\n')
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']])
  return [`${body}\n`]
}
