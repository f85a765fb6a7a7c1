// Output side of a connection: records are appended to an outbox that the I/O layer empties with
// takeOutput() and writes in one writev/cork. Small records are coalesced into shared slabs;
// large payloads are passed through as views (zero copy), split at 65535 bytes (F-05).
import { HEADER_LEN, MAX_CONTENT_LENGTH, RecordType } from './constants.js'
import { checkEndRequest, concatBytes, type Padding, paddingFor, writeEndRequestBody, writeHeader } from './record.js'

/** Slab size: a typical response (header block, small body, END_REQUEST) fits in one. */
const SLAB_SIZE = 16 * 1024
/** Payloads from this size on are not copied but referenced (like socket.write of a Buffer). */
const COPY_THRESHOLD = 4096
/** After take(), a slab with less room than this is dropped rather than kept (unless recycled). */
const SLAB_KEEP_MIN = 1024

export class Outbox {
  readonly #padding: Padding
  /** Current slab; bytes before #start were handed out and are never written again. */
  #slab: Uint8Array | undefined
  #start = 0
  #pos = 0
  #parts: Uint8Array[] = []
  #size = 0

  constructor(padding: Padding = 'none') {
    this.#padding = padding
  }

  /** Bytes queued and not yet taken. */
  get size(): number {
    return this.#size
  }

  /**
   * Append one record; `content` must be ≤ 65535 bytes and the fields valid (callers check).
   * Content of 4 KiB or more is referenced, not copied: do not modify it until it was written.
   */
  record(type: number, requestId: number, content: Uint8Array): void {
    const length = content.length
    const pad = paddingFor(length, this.#padding)
    this.#size += HEADER_LEN + length + pad
    if (length >= COPY_THRESHOLD) {
      writeHeader(this.#reserve(HEADER_LEN), this.#pos - HEADER_LEN, type, requestId, length, pad)
      this.#cut()
      this.#parts.push(content)
      if (pad > 0) this.#zeroPadding(this.#reserve(pad), pad)
      return
    }
    const slab = this.#reserve(HEADER_LEN + length + pad)
    const at = this.#pos - (HEADER_LEN + length + pad)
    writeHeader(slab, at, type, requestId, length, pad)
    slab.set(content, at + HEADER_LEN)
    if (pad > 0) this.#zeroPadding(slab, pad)
  }

  /** Append stream records for `content`, split at 65535 bytes; nothing for empty content. */
  stream(type: number, requestId: number, content: Uint8Array): void {
    if (content.length <= MAX_CONTENT_LENGTH) {
      if (content.length > 0) this.record(type, requestId, content)
      return
    }
    for (let at = 0; at < content.length; at += MAX_CONTENT_LENGTH) {
      this.record(type, requestId, content.subarray(at, at + MAX_CONTENT_LENGTH))
    }
  }

  /** Append the empty record that ends a stream. */
  endStream(type: number, requestId: number): void {
    const pad = paddingFor(0, this.#padding)
    this.#size += HEADER_LEN + pad
    const slab = this.#reserve(HEADER_LEN + pad)
    writeHeader(slab, this.#pos - HEADER_LEN - pad, type, requestId, 0, pad)
    if (pad > 0) this.#zeroPadding(slab, pad)
  }

  /** Append END_REQUEST (spec §5.5); the body is 8 bytes, so no padding either way. */
  endRequest(requestId: number, appStatus: number, protocolStatus: number): void {
    checkEndRequest(appStatus, protocolStatus)
    const slab = this.#reserve(16)
    const at = this.#pos - 16
    writeEndRequestBody(slab, at + HEADER_LEN, appStatus, protocolStatus)
    writeHeader(slab, at, RecordType.EndRequest, requestId, 8, 0)
    this.#size += 16
  }

  /** Take every queued byte, in order, as a list of arrays for one writev. */
  take(): Uint8Array[] {
    this.#cut()
    const parts = this.#parts
    this.#parts = []
    this.#size = 0
    if (this.#slab !== undefined && this.#slab.length - this.#pos < SLAB_KEEP_MIN) {
      this.#slab = undefined
    }
    return parts
  }

  /**
   * The caller is done with every array take() gave it (a socket that wrote them synchronously):
   * the slab is written again from its start, which keeps RSS steady (docs/performance.md).
   */
  recycle(): void {
    if (this.#parts.length === 0 && this.#pos === this.#start) this.#start = this.#pos = 0
  }

  /** Take every queued byte as one array (copies only when there are several parts). */
  takeBytes(): Uint8Array {
    const parts = this.take()
    return parts.length === 1 ? parts[0]! : concatBytes(parts)
  }

  /** Zeroes the `pad` bytes just reserved: a recycled slab holds old bytes (spec §3.3 leaves padding unused). */
  #zeroPadding(slab: Uint8Array, pad: number): void {
    slab.fill(0, this.#pos - pad, this.#pos)
  }

  /** Make room for `n` bytes at the end of the current slab and advance past them. */
  #reserve(n: number): Uint8Array {
    let slab = this.#slab
    if (slab === undefined || slab.length - this.#pos < n) {
      this.#cut()
      slab = this.#slab = new Uint8Array(Math.max(SLAB_SIZE, n))
      this.#start = this.#pos = 0
    }
    this.#pos += n
    return slab
  }

  /** Move the slab bytes written since the last cut into the output list. */
  #cut(): void {
    if (this.#pos > this.#start) {
      this.#parts.push(this.#slab!.subarray(this.#start, this.#pos))
      this.#start = this.#pos
    }
  }
}
