// An in-memory gateway for engine-level tests: a recording ResponseSink and a complete environ.
import type { Environ, HeaderList } from '../../src/app.js'
import type { ResponseSink } from '../../src/core/engine.js'
import { BodyInput } from '../../src/core/input.js'

export interface Recorded {
  status?: number
  reason?: string
  headers?: HeaderList
  chunks: Uint8Array[]
  ended: boolean
  aborted?: unknown
  calls: string[]
  log: string[]
  controller: AbortController
}

export function recordingSink(rec: Recorded): ResponseSink {
  return {
    head(status, reason, headers) {
      rec.calls.push('head')
      rec.status = status
      rec.reason = reason
      rec.headers = headers
    },
    body(chunk) {
      rec.calls.push('body')
      rec.chunks.push(chunk)
    },
    end() {
      rec.calls.push('end')
      rec.ended = true
    },
    abort(error) {
      rec.calls.push('abort')
      rec.aborted = error
    },
  }
}

export function makeEnviron(overrides: Partial<Environ> = {}, input?: BodyInput): { environ: Environ; rec: Recorded } {
  const controller = new AbortController()
  const rec: Recorded = { chunks: [], ended: false, calls: [], log: [], controller }
  const environ: Environ = {
    REQUEST_METHOD: 'GET',
    SCRIPT_NAME: '',
    PATH_INFO: '/',
    QUERY_STRING: '',
    SERVER_NAME: 'localhost',
    SERVER_PORT: '80',
    SERVER_PROTOCOL: 'HTTP/1.1',
    'tsgi.version': [1, 0],
    'tsgi.url_scheme': 'http',
    'tsgi.input': input ?? BodyInput.empty(),
    'tsgi.errors': { write: (message: string) => void rec.log.push(message) },
    'tsgi.multithread': false,
    'tsgi.multiprocess': false,
    'tsgi.run_once': false,
    'tsgi.signal': controller.signal,
    ...overrides,
  }
  return { environ, rec }
}

export function bodyText(rec: Recorded): string {
  return Buffer.concat(rec.chunks).toString('utf8')
}
