// Shared by the validator's parts (SPEC §8): how a violation is raised, and small checks on values.
import type { Chunk } from '../../app.js'
import { show } from '../../core/headers.js'
import { TsgiError } from '../../errors.js'

/** Receives a violation found after the fact, when nobody is there to catch a throw. */
export type Report = (message: string) => void

/** The error every rule throws: the gateway turns it into a 500 (SPEC §5.4). */
export function violation(message: string): TsgiError {
  return new TsgiError('ERR_VALIDATION', `tsgi.validate: ${message}`)
}

/** Runs a shared core check and re-labels its TsgiError as a validation error, keeping the message. */
export function relabel<T>(check: () => T): T {
  try {
    return check()
  } catch (err) {
    if (err instanceof TsgiError) throw violation(err.message.replace(/^tsgi: /, ''))
    throw err
  }
}

export function isChunk(value: unknown): value is Chunk {
  return typeof value === 'string' || value instanceof Uint8Array
}

/** Bytes a chunk becomes on the wire: strings as UTF-8, lone surrogates as U+FFFD (SPEC §5.2). */
export function chunkLength(chunk: Chunk): number {
  if (typeof chunk !== 'string') return chunk.byteLength
  let bytes = 0
  for (let i = 0; i < chunk.length; i++) {
    const code = chunk.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(chunk.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/** What `excInfo` must be (SPEC §4): the caught error, possibly from another realm. */
export function isErrorLike(value: unknown): boolean {
  if (value instanceof Error) return true
  const v = value as { name?: unknown; message?: unknown } | null
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.message === 'string'
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/** A value's type and, for primitives, the value itself: `number 42`, `null`, `Map`, `string "x"`. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  if (typeof value === 'string') return `string ${show(value)}`
  if (typeof value === 'object') return Array.isArray(value) ? `array ${show(value)}` : objectName(value)
  if (typeof value === 'function') return 'function'
  return `${typeof value} ${String(value)}`
}

function objectName(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : 'object'
}

export { show }
