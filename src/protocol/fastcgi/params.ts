// Name-value pairs (FastCGI spec §3.4): lengths of 1 byte (< 128) or 4 bytes (top bit set, 31 bits).
// An incremental decoder (a pair may straddle PARAMS records, V-33) and an encoder.
import { TsgiError } from '../../errors.js'
import { DEFAULT_LIMITS, type Limits } from './limits.js'
import { decodeName, decodeText, decodeWhole, type NameHints, utf8Length, writeText } from './text.js'

/** One name-value pair, decoded as UTF-8. Order and duplicates are kept (nginx repeats params). */
export type Pair = [name: string, value: string]

/** Largest encodable length: 31 bits (spec §3.4). */
export const MAX_NAME_VALUE_LENGTH = 0x7fffffff

/** Bytes the length `n` takes on the wire: 1 below 128, else 4. */
export function lengthSize(n: number): 1 | 4 {
  return n < 0x80 ? 1 : 4
}

/** Encode one length (V-14, V-15). */
export function encodeLength(n: number): Uint8Array {
  const out = new Uint8Array(lengthSize(checkLength(n)))
  writeLength(out, 0, n)
  return out
}

/** Decode the length at `offset`, or -1 when its bytes are not all there yet. */
export function decodeLength(bytes: Uint8Array, offset = 0): number {
  const b0 = bytes[offset]
  if (b0 === undefined) return -1
  if (b0 < 0x80) return b0
  if (offset + 4 > bytes.length) return -1
  return long(b0, bytes, offset + 1)
}

/** A 4-byte length: `b0` (top bit set) and the 3 bytes at `at` (spec §3.4: 31 bits). */
function long(b0: number, bytes: Uint8Array, at: number): number {
  return (((b0 & 0x7f) << 24) | (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!) >>> 0
}

function writeLength(target: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    target[at] = n
    return at + 1
  }
  target[at] = (n >>> 24) | 0x80
  target[at + 1] = (n >>> 16) & 0xff
  target[at + 2] = (n >>> 8) & 0xff
  target[at + 3] = n & 0xff
  return at + 4
}

function checkLength(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > MAX_NAME_VALUE_LENGTH) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid name-value length ${n}`)
  }
  return n
}

/**
 * Encode pairs (strings as UTF-8, or raw bytes) as one name-value block: lengths first, then each string
 * written straight into the block (no array per name and value: this runs for every request a client sends).
 */
export function encodeParams(pairs: Iterable<readonly [string | Uint8Array, string | Uint8Array]>): Uint8Array {
  const items: Array<string | Uint8Array> = []
  const lengths: number[] = []
  let size = 0
  for (const [name, value] of pairs) {
    const n = checkLength(byteLength(name))
    const v = checkLength(byteLength(value))
    size += lengthSize(n) + lengthSize(v) + n + v
    items.push(name, value)
    lengths.push(n, v)
  }
  const out = new Uint8Array(size)
  let at = 0
  for (let i = 0; i < items.length; i += 2) {
    at = writeLength(out, at, lengths[i]!)
    at = writeLength(out, at, lengths[i + 1]!)
    at = put(out, at, items[i]!, lengths[i]!)
    at = put(out, at, items[i + 1]!, lengths[i + 1]!)
  }
  return out
}

function byteLength(item: string | Uint8Array): number {
  return typeof item === 'string' ? utf8Length(item) : item.length
}

function put(out: Uint8Array, at: number, item: string | Uint8Array, length: number): number {
  if (typeof item === 'string') writeText(out, at, item, length)
  else out.set(item, at)
  return at + length
}

/** Decode a whole name-value block (a GET_VALUES body, or PARAMS gathered by the caller). */
export function decodeParams(bytes: Uint8Array, limits: Readonly<Limits> = DEFAULT_LIMITS): Pair[] {
  const decoder = new ParamsDecoder(limits)
  decoder.push(bytes)
  return decoder.end()
}

/**
 * Incremental decoder of one name-value stream. `push` each record's content, `end` on the empty
 * record. Limits are checked as soon as a pair's lengths are known, before any allocation.
 * A pair inside one pushed chunk is decoded in place; a straddling pair (V-33) is gathered into one
 * buffer of exactly its size, so every byte is copied at most once whatever the record sizes.
 */
export class ParamsDecoder {
  readonly pairs: Pair[] = []
  readonly #limits: Readonly<Limits>
  /** Stream bytes pushed before the current chunk. */
  #base = 0
  /** Length prefix of a straddling pair, up to 8 bytes. */
  #prefix: Uint8Array | undefined
  #prefixFill = 0
  /** Name and value bytes of a straddling pair whose lengths are known. */
  #pending: Uint8Array | undefined
  #pendingFill = 0
  #nameLength = 0
  readonly #hints: NameHints | undefined

  /** `hints`: kept by the caller per connection, it makes repeated names cheap (see NameHints). */
  constructor(limits: Readonly<Limits> = DEFAULT_LIMITS, hints?: NameHints) {
    this.#limits = limits
    this.#hints = hints
  }

  /** True while a pair is cut at the end of the bytes pushed so far. */
  get partial(): boolean {
    return this.#prefixFill > 0 || this.#pending !== undefined
  }

  /** Decode a chunk of the stream. Throws ERR_FCGI_LIMIT when a limit is crossed. */
  push(chunk: Uint8Array): void {
    const n = chunk.length
    if (this.#base + n > this.#limits.maxParamsBytes) {
      throw limitError(`fcgi: params over limit ${this.#limits.maxParamsBytes} bytes`)
    }
    let p = this.partial ? this.#resume(chunk) : 0
    // One decoder call for the whole chunk; when it is byte-for-byte (ASCII, as nginx sends),
    // names and values are slices of it: a pair costs two substrings instead of two decodes.
    const text = p < n ? decodeWhole(chunk) : undefined
    while (p < n) {
      let q = p
      let nameLength = chunk[q++]!
      if (nameLength > 0x7f) {
        if (q + 3 > n) break
        nameLength = long(nameLength, chunk, q)
        q += 3
      }
      if (q >= n) break
      let valueLength = chunk[q++]!
      if (valueLength > 0x7f) {
        if (q + 3 > n) break
        valueLength = long(valueLength, chunk, q)
        q += 3
      }
      this.#check(nameLength, valueLength, this.#base + q)
      const end = q + nameLength + valueLength
      if (end > n) {
        this.#startPending(chunk, q, nameLength, valueLength)
        p = n
        break
      }
      const split = q + nameLength
      const name =
        this.#hints === undefined ? decodeName(chunk, q, split) : this.#hints.name(this.pairs.length, chunk, q, split)
      this.pairs.push([name, text !== undefined ? text.slice(split, end) : decodeText(chunk, split, end)])
      p = end
    }
    if (p < n) this.#startPrefix(chunk, p)
    this.#base += n
  }

  /** End of the stream: return the pairs, or throw if it stopped inside a pair (V-27, S-06). */
  end(): Pair[] {
    if (this.partial) {
      throw new TsgiError('ERR_FCGI_BAD_PARAMS', `fcgi: params end inside a name-value pair`)
    }
    return this.pairs
  }

  /** Limits, checked once both lengths are known and before anything is allocated (S-05). */
  #check(nameLength: number, valueLength: number, dataOffset: number): void {
    const limits = this.#limits
    const longest = Math.max(nameLength, valueLength)
    if (longest > limits.maxNameValueLength) {
      throw limitError(`fcgi: name-value length ${longest} over limit ${limits.maxNameValueLength}`)
    }
    if (dataOffset + nameLength + valueLength > limits.maxParamsBytes) {
      throw limitError(`fcgi: params over limit ${limits.maxParamsBytes} bytes`)
    }
    if (this.pairs.length >= limits.maxParams) {
      throw limitError(`fcgi: more than ${limits.maxParams} params`)
    }
  }

  #startPrefix(chunk: Uint8Array, from: number): void {
    this.#prefix ??= new Uint8Array(8)
    this.#prefix.set(chunk.subarray(from))
    this.#prefixFill = chunk.length - from
  }

  #startPending(chunk: Uint8Array, from: number, nameLength: number, valueLength: number): void {
    const pending = new Uint8Array(nameLength + valueLength)
    pending.set(chunk.subarray(from))
    this.#pending = pending
    this.#pendingFill = chunk.length - from
    this.#nameLength = nameLength
  }

  /** Continue a straddling pair with the start of `chunk`; return where the next pair starts. */
  #resume(chunk: Uint8Array): number {
    let p = 0
    if (this.#pending === undefined) {
      const prefix = this.#prefix!
      let need = prefixSize(prefix, this.#prefixFill)
      while (this.#prefixFill < need && p < chunk.length) {
        prefix[this.#prefixFill++] = chunk[p++]!
        need = prefixSize(prefix, this.#prefixFill)
      }
      if (this.#prefixFill < need) return p
      const nameLength = decodeLength(prefix, 0)
      const valueLength = decodeLength(prefix, lengthSize(nameLength))
      this.#prefixFill = 0
      this.#check(nameLength, valueLength, this.#base + p)
      if (p + nameLength + valueLength <= chunk.length) {
        const split = p + nameLength
        const end = split + valueLength
        this.pairs.push([decodeName(chunk, p, split), decodeText(chunk, split, end)])
        return end
      }
      this.#startPending(chunk, p, nameLength, valueLength)
      return chunk.length
    }
    const pending = this.#pending
    const take = Math.min(pending.length - this.#pendingFill, chunk.length)
    pending.set(chunk.subarray(0, take), this.#pendingFill)
    this.#pendingFill += take
    if (this.#pendingFill < pending.length) return take
    const split = this.#nameLength
    this.pairs.push([decodeName(pending, 0, split), decodeText(pending, split, pending.length)])
    this.#pending = undefined
    return take
  }
}

/** Size of the whole length prefix, as far as the first `fill` bytes tell. */
function prefixSize(prefix: Uint8Array, fill: number): number {
  if (fill === 0) return 2
  const nameSize = prefix[0]! > 0x7f ? 4 : 1
  if (fill <= nameSize) return nameSize + 1
  return nameSize + (prefix[nameSize]! > 0x7f ? 4 : 1)
}

function limitError(message: string): TsgiError {
  return new TsgiError('ERR_FCGI_LIMIT', message, { status: 431 })
}
