// Incremental record reader shared by both sides of a connection (FastCGI spec §3.3).
// Bytes go in as they arrive; whole records come out, content as a view of the received bytes
// whenever a record lies inside one chunk, else gathered once into a buffer of exactly its size.
import { TsgiError } from '../../errors.js'
import { HEADER_LEN, VERSION_1 } from './constants.js'
import { EMPTY } from './record.js'

const HEADER = 0
const CONTENT = 1
const PADDING = 2

export class RecordReader {
  /** Fields of the last record `next()` returned true for. */
  type = 0
  requestId = 0
  content: Uint8Array = EMPTY

  #chunks: Uint8Array[] = []
  #head = 0
  #offset = 0
  #eof = false
  #state = HEADER
  #header = new Uint8Array(HEADER_LEN)
  #headerFill = 0
  #contentLength = 0
  #paddingLeft = 0
  /** Gathering buffer of a record that straddles chunks. */
  #gather: Uint8Array | undefined
  #gatherFill = 0
  #buffered = 0

  /** Queue received bytes. The reader keeps views of them: the caller must not reuse them. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return
    this.#chunks.push(bytes)
    this.#buffered += bytes.length
  }

  /** The peer closed its side: no more bytes will come. */
  pushEof(): void {
    this.#eof = true
  }

  get eof(): boolean {
    return this.#eof
  }

  /** Received bytes not yet consumed by a whole record (a partial record counts). */
  get buffered(): number {
    return this.#buffered + this.#headerFill + this.#gatherFill
  }

  /** True when a record has started but not finished: an EOF now truncates it (S-11). */
  get midRecord(): boolean {
    return this.#state !== HEADER || this.#headerFill > 0
  }

  /**
   * Advance to the next whole record (header, content and padding all received) and return true,
   * or return false when more bytes are needed. Throws ERR_FCGI_BAD_VERSION (F-02, V-30).
   */
  next(): boolean {
    for (;;) {
      const chunk = this.#chunks[this.#head]
      if (chunk === undefined) {
        this.#reset()
        return false
      }
      const avail = chunk.length - this.#offset
      if (avail === 0) {
        this.#chunks[this.#head++] = EMPTY
        this.#offset = 0
        continue
      }
      if (this.#state === HEADER) {
        this.#readHeader(chunk, avail)
      } else if (this.#state === CONTENT) {
        this.#readContent(chunk, avail)
      } else {
        const skip = Math.min(this.#paddingLeft, avail)
        this.#offset += skip
        this.#buffered -= skip
        this.#paddingLeft -= skip
      }
      if (this.#state === PADDING && this.#paddingLeft === 0) {
        this.#state = HEADER
        return true
      }
    }
  }

  #readHeader(chunk: Uint8Array, avail: number): void {
    let bytes = chunk
    let at = this.#offset
    if (this.#headerFill === 0 && avail >= HEADER_LEN) {
      this.#offset += HEADER_LEN
      this.#buffered -= HEADER_LEN
    } else {
      const take = Math.min(HEADER_LEN - this.#headerFill, avail)
      this.#header.set(chunk.subarray(at, at + take), this.#headerFill)
      this.#headerFill += take
      this.#offset += take
      this.#buffered -= take
      if (this.#headerFill < HEADER_LEN) return
      this.#headerFill = 0
      bytes = this.#header
      at = 0
    }
    // reserved (byte 7) is ignored (spec §3.3); padding is read and skipped (F-03).
    if (bytes[at] !== VERSION_1) {
      throw new TsgiError('ERR_FCGI_BAD_VERSION', `fcgi: invalid header version ${bytes[at]}`, {
        data: bytes.slice(at, at + HEADER_LEN),
      })
    }
    this.type = bytes[at + 1]!
    this.requestId = (bytes[at + 2]! << 8) | bytes[at + 3]!
    this.#contentLength = (bytes[at + 4]! << 8) | bytes[at + 5]!
    this.#paddingLeft = bytes[at + 6]!
    this.content = EMPTY
    this.#state = this.#contentLength === 0 ? PADDING : CONTENT
  }

  #readContent(chunk: Uint8Array, avail: number): void {
    const at = this.#offset
    const length = this.#contentLength
    if (this.#gather === undefined && avail >= length) {
      // The common case: the whole content is in this chunk, hand out a view (zero copy).
      this.content = chunk.subarray(at, at + length)
      this.#offset += length
      this.#buffered -= length
      this.#state = PADDING
      return
    }
    // Straddling record: one buffer of exactly contentLength (≤ 65535), each byte copied once.
    this.#gather ??= new Uint8Array(length)
    const gather = this.#gather
    const take = Math.min(length - this.#gatherFill, avail)
    gather.set(chunk.subarray(at, at + take), this.#gatherFill)
    this.#gatherFill += take
    this.#offset += take
    this.#buffered -= take
    if (this.#gatherFill < length) return
    this.content = gather
    this.#gather = undefined
    this.#gatherFill = 0
    this.#state = PADDING
  }

  /** All queued chunks consumed: drop them so their memory can go. */
  #reset(): void {
    if (this.#head > 0) {
      this.#chunks.length = 0
      this.#head = 0
      this.#offset = 0
    }
  }
}
