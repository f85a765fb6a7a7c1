// The seed's /hello path app: echoes the first path segment, `hello` by default.
// The seed answered text/html with the raw path inside: an XSS. We answer text/plain.
import type { Environ, StartResponse } from '../src/app.js'

export default function pathApp(environ: Environ, startResponse: StartResponse): string[] {
  const name = environ.PATH_INFO.slice(1) || 'hello'
  startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']])
  return [` ${name} `]
}
