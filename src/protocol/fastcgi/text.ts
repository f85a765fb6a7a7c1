// UTF-8 for PARAMS names and values: bad bytes become U+FFFD, as Node decodes process.env in CGI
// mode. Hot path of every request, so short ASCII strings skip TextDecoder and names are cached.

const decoder = new TextDecoder('utf-8') // fatal: false, so invalid sequences become U+FFFD
const encoder = new TextEncoder()

/** ASCII strings up to this length are built char by char, not by TextDecoder (docs/performance.md). */
const SHORT = 12

/** Decode `bytes[start, end)` as UTF-8 (WHATWG decoder, replacement on error). */
export function decodeText(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT) {
    let out = ''
    for (let i = start; i < end; i++) {
      const c = bytes[i]!
      if (c > 0x7f) return decoder.decode(bytes.subarray(start, end))
      out += String.fromCharCode(c)
    }
    return out
  }
  return decoder.decode(bytes.subarray(start, end))
}

/**
 * Decode a whole chunk, if every byte maps to exactly one UTF-16 unit: then any sub-range decodes
 * to the same-range slice of the result. A multi-byte character or a multi-byte invalid sequence
 * makes the string shorter than the bytes; a lone invalid byte becomes one U+FFFD either way.
 */
export function decodeWhole(bytes: Uint8Array): string | undefined {
  const text = decoder.decode(bytes)
  return text.length === bytes.length ? text : undefined
}

// Param names repeat on every request (REQUEST_METHOD, HTTP_HOST, ...), so names are interned in a
// small direct-mapped cache keyed by an FNV-1a hash and checked byte for byte. Bounded: 256 slots of
// at most 64 bytes. Values are never cached (they may be secrets: timing must not depend on them).
const CACHE_SLOTS = 256
const CACHE_MAX_LENGTH = 64
const cacheKeys: Array<Uint8Array | undefined> = new Array<Uint8Array | undefined>(CACHE_SLOTS)
const cacheStrings: string[] = new Array<string>(CACHE_SLOTS).fill('')

/** Decode a param name; ASCII names up to 64 bytes go through the intern cache. */
export function decodeName(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start
  if (length > CACHE_MAX_LENGTH || length === 0) return decodeText(bytes, start, end)
  let hash = 0x811c9dc5 | 0
  let high = 0
  for (let i = start; i < end; i++) {
    const c = bytes[i]!
    high |= c
    hash = Math.imul(hash ^ c, 0x01000193)
  }
  if (high > 0x7f) return decoder.decode(bytes.subarray(start, end))
  const slot = (hash ^ (hash >>> 16)) & (CACHE_SLOTS - 1)
  const key = cacheKeys[slot]
  if (key !== undefined && sameBytes(key, bytes, start, length)) return cacheStrings[slot]!
  const name = decodeText(bytes, start, end)
  cacheKeys[slot] = bytes.slice(start, end)
  cacheStrings[slot] = name
  return name
}

/**
 * The names of the last PARAMS block on one connection, by position. A web server sends the same
 * names in the same order on every request of a location, so comparing the bytes with the name last
 * seen at that position is cheaper than hashing them for the intern cache. Names only, never values.
 */
export class NameHints {
  readonly #bytes: Array<Uint8Array | undefined> = []
  readonly #names: string[] = []

  /** The name at `bytes[start, end)`, the `at`-th pair of its block. */
  name(at: number, bytes: Uint8Array, start: number, end: number): string {
    const known = this.#bytes[at]
    const length = end - start
    if (known !== undefined && sameBytes(known, bytes, start, length)) return this.#names[at]!
    const name = decodeName(bytes, start, end)
    this.#bytes[at] = bytes.slice(start, end)
    this.#names[at] = name
    return name
  }
}

/** True when `key` is exactly `bytes[start, start + length)`. */
function sameBytes(key: Uint8Array, bytes: Uint8Array, start: number, length: number): boolean {
  if (key.length !== length) return false
  let i = 0
  while (i < length && key[i] === bytes[start + i]) i++
  return i === length
}

/** The UTF-8 byte length of `text` as TextEncoder writes it (a lone surrogate is U+FFFD: 3 bytes). */
export function utf8Length(text: string): number {
  let n = text.length
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x80) continue
    if (c < 0x800) n += 1
    else if (c >= 0xd800 && c <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2 // a surrogate pair: two units, four bytes
      i++
    } else n += 2
  }
  return n
}

/** Writes `text` (of UTF-8 length `length`, from utf8Length) at `at`; ASCII byte by byte, else encodeInto. */
export function writeText(target: Uint8Array, at: number, text: string, length: number): void {
  if (length === text.length) {
    for (let i = 0; i < length; i++) target[at + i] = text.charCodeAt(i)
    return
  }
  encoder.encodeInto(text, target.subarray(at, at + length))
}
