// The other way to run Express as a TSGI app, measured against fromNode: light-my-request (Fastify's
// injection library) builds req and res and streams the response (payloadAsStream).
import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import { inject } from 'light-my-request'
import type { Environ, StartResponse } from '../../src/app.js'
import { requestHeaders } from '../../src/bridges/headers.js'
import { target } from '../../src/bridges/url.js'
import app from './express-hello.js'

export default async function injected(environ: Environ, startResponse: StartResponse) {
  const headers: IncomingHttpHeaders = Object.fromEntries(requestHeaders(environ))
  const hasBody = environ.CONTENT_LENGTH !== undefined && environ.CONTENT_LENGTH !== '0'
  const response = await inject(app, {
    method: environ.REQUEST_METHOD as 'GET',
    url: target(environ),
    headers,
    remoteAddress: environ.REMOTE_ADDR ?? '127.0.0.1',
    ...(hasBody ? { payload: Readable.from(environ['tsgi.input']) } : {}),
    payloadAsStream: true,
  })
  const list: Array<[string, string]> = []
  for (const [name, value] of Object.entries(response.headers)) {
    if (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive' || name === 'date') continue
    for (const item of Array.isArray(value) ? value : [value]) list.push([name, String(item)])
  }
  startResponse(`${response.statusCode} ${response.statusMessage}`, list)
  return response.stream() as AsyncIterable<Uint8Array>
}
