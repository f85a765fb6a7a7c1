// Small pure helpers of the response engine: body and chunk checks, error descriptions, and tsgi.signal
// seen as an AbortState. Kept apart so engine.ts holds only the startResponse and body rules.
import type { Body, Chunk } from '../app.js'
import { TsgiError } from '../errors.js'
import type { AbortState } from './engine.js'
import { show } from './headers.js'

/** tsgi.signal seen as an AbortState (gateways that pass no RunOptions.abort). */
export function signalState(signal: unknown): AbortState | undefined {
  if (!(signal instanceof AbortSignal)) return undefined
  return {
    get aborted() {
      return signal.aborted
    },
    onAbort: (listener) => signal.addEventListener('abort', listener, { once: true }),
  }
}

export function openBody(body: Body): Iterator<Chunk> | AsyncIterator<Chunk> {
  const b = body as Partial<AsyncIterable<Chunk> & Iterable<Chunk>> | null
  if (b !== null && typeof b === 'object') {
    if (typeof b[Symbol.asyncIterator] === 'function') return b[Symbol.asyncIterator]!()
    if (typeof b[Symbol.iterator] === 'function' && typeof body !== 'string') return b[Symbol.iterator]!()
  }
  throw new TsgiError('ERR_BAD_BODY', `tsgi: the app must return an iterable body, got ${describeType(body)}`)
}

export function toBytes(chunk: unknown, encode: (text: string) => Uint8Array): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk
  if (typeof chunk === 'string') return encode(chunk)
  throw new TsgiError('ERR_BAD_BODY', `tsgi: body chunks must be Uint8Array or string, got ${describeType(chunk)}`)
}

export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function describeType(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'object'
  return typeof value === 'string' ? `string ${show(value)}` : typeof value
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`
  return show(error)
}
