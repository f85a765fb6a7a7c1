// The body side of the engine's rules (SPEC §5.1, §5.2): opening what an app returned, turning chunks
// into bytes, and describing a failure for tsgi.errors.
import type { Body, Chunk } from '../app.js'
import { TsgiError } from '../errors.js'
import { show } from './headers.js'

// Strings become UTF-8 through Buffer.from where the runtime has it (Node, Bun, Deno): it takes small
// strings from a pooled slab and costs less than TextEncoder (docs/performance.md). Same bytes either way.
const NodeBuffer = (globalThis as { Buffer?: { from(text: string, encoding: 'utf8'): Uint8Array } }).Buffer
const encoder = new TextEncoder()
const encodeUtf8: (text: string) => Uint8Array =
  NodeBuffer === undefined ? (text) => encoder.encode(text) : (text) => NodeBuffer.from(text, 'utf8')

/** The iterator of an app's body; a string or a non-iterable is ERR_BAD_BODY (SPEC §5.1). */
export function openBody(body: Body): Iterator<Chunk> | AsyncIterator<Chunk> {
  const b = body as Partial<AsyncIterable<Chunk> & Iterable<Chunk>> | null
  if (b !== null && typeof b === 'object') {
    if (typeof b[Symbol.asyncIterator] === 'function') return b[Symbol.asyncIterator]!()
    if (typeof b[Symbol.iterator] === 'function') return b[Symbol.iterator]!()
  }
  throw new TsgiError('ERR_BAD_BODY', `tsgi: the app must return an iterable body, got ${describeType(body)}`)
}

/** A chunk as bytes: strings as UTF-8 (SPEC §5.2); anything else is ERR_BAD_BODY. */
export function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return encodeUtf8(chunk)
  throw new TsgiError('ERR_BAD_BODY', `tsgi: body chunks must be Uint8Array or string, got ${describeType(chunk)}`)
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** An error for the log: its stack when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`
  return show(error)
}

function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value === 'string' ? `string ${show(value)}` : typeof value
}
