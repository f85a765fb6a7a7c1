// The seed's environ dump: every key of environ, sorted, one `key: value` line each.
import type { Environ, StartResponse } from '../src/app.js'

export default function environDump(environ: Environ, startResponse: StartResponse): Uint8Array[] {
  const lines = Object.keys(environ)
    .sort()
    .map((key) => `${key}: ${describe(environ[key])}`)
  const body = new TextEncoder().encode(`${lines.join('\n')}\n`)
  startResponse('200 OK', [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.byteLength)],
  ])
  return [body]
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return `[${value.join(', ')}]`
  if (typeof value === 'boolean' || typeof value === 'number') return String(value)
  if (value instanceof AbortSignal) return `<AbortSignal aborted=${value.aborted}>`
  return `<${(value as object | null)?.constructor?.name ?? typeof value}>`
}
