// The seed's hello world (PEP 3333's simple_app): the smallest TSGI application.
import type { Environ, StartResponse } from '../src/app.js'

const HELLO_WORLD = 'Hello world!\n'

export default function hello(_environ: Environ, startResponse: StartResponse): string[] {
  startResponse('200 OK', [['Content-Type', 'text/plain']])
  return [HELLO_WORLD]
}
