// FastCGI record layer (spec §3.3): the 8-byte header, record bodies of fixed layout (§5.1, §5.5,
// §4.2) and one-shot encoders that split long streams at 65535 bytes (F-05).
import { TsgiError } from '../../errors.js'
import { HEADER_LEN, MAX_CONTENT_LENGTH, MAX_REQUEST_ID, VERSION_1 } from './constants.js'

/**
 * Padding policy of our writer. The spec recommends 8-byte alignment (§3.3) but receivers must
 * accept any padding (F-04): `'none'` is what Apache, lighttpd and mod_fcgid send and is our
 * default (vector V-17); `'align8'` is what nginx and Go send (V-06, V-24, V-26).
 */
export type Padding = 'none' | 'align8'

/** A decoded record header (spec §3.3). `reserved` is ignored on input and 0 on output. */
export interface RecordHeader {
  version: number
  type: number
  requestId: number
  contentLength: number
  paddingLength: number
}

export const EMPTY = new Uint8Array(0)

/** Padding bytes our writer puts after `contentLength` bytes of content. */
export function paddingFor(contentLength: number, padding: Padding): number {
  return padding === 'align8' ? -contentLength & 7 : 0
}

/** Read the header at `offset` (8 bytes must be there). No validation: see RecordReader. */
export function decodeHeader(bytes: Uint8Array, offset = 0): RecordHeader {
  if (offset < 0 || bytes.length - offset < HEADER_LEN) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: a header needs ${HEADER_LEN} bytes`)
  }
  return {
    version: bytes[offset]!,
    type: bytes[offset + 1]!,
    requestId: (bytes[offset + 2]! << 8) | bytes[offset + 3]!,
    contentLength: (bytes[offset + 4]! << 8) | bytes[offset + 5]!,
    paddingLength: bytes[offset + 6]!,
  }
}

/** Write a header at `offset`. Callers have validated the fields (hot path of the Outbox). */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  type: number,
  requestId: number,
  contentLength: number,
  paddingLength: number,
): void {
  target[offset] = VERSION_1
  target[offset + 1] = type
  target[offset + 2] = requestId >>> 8
  target[offset + 3] = requestId & 0xff
  target[offset + 4] = contentLength >>> 8
  target[offset + 5] = contentLength & 0xff
  target[offset + 6] = paddingLength
  target[offset + 7] = 0
}

/** Throw unless `type` and `requestId` fit their header fields. */
export function checkRecordFields(type: number, requestId: number): void {
  if (!Number.isInteger(type) || type < 0 || type > 255) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid record type ${type}`)
  }
  if (!Number.isInteger(requestId) || requestId < 0 || requestId > MAX_REQUEST_ID) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid request id ${requestId}`)
  }
}

/** Encode one record; `content` must fit one record (≤ 65535 bytes). */
export function encodeRecord(
  type: number,
  requestId: number,
  content: Uint8Array = EMPTY,
  padding: Padding = 'none',
): Uint8Array {
  checkRecordFields(type, requestId)
  if (content.length > MAX_CONTENT_LENGTH) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: record content too long ${content.length}`)
  }
  const pad = paddingFor(content.length, padding)
  const out = new Uint8Array(HEADER_LEN + content.length + pad)
  writeHeader(out, 0, type, requestId, content.length, pad)
  out.set(content, HEADER_LEN)
  return out
}

export interface StreamOptions {
  padding?: Padding
  /** Append the empty record that ends the stream (spec §3.3 "Stream records"). */
  end?: boolean
}

/**
 * Encode `content` as stream records of `type`, at most 65535 content bytes each (F-05, V-26).
 * Empty content yields no record (an empty record would end the stream) unless `end` is set.
 */
export function encodeStream(
  type: number,
  requestId: number,
  content: Uint8Array,
  options: StreamOptions = {},
): Uint8Array {
  checkRecordFields(type, requestId)
  const padding = options.padding ?? 'none'
  const parts: Uint8Array[] = []
  for (let at = 0; at < content.length; at += MAX_CONTENT_LENGTH) {
    parts.push(encodeRecord(type, requestId, content.subarray(at, at + MAX_CONTENT_LENGTH), padding))
  }
  if (options.end === true) parts.push(encodeRecord(type, requestId, EMPTY, padding))
  return concatBytes(parts)
}

/** Concatenate byte arrays into one new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let size = 0
  for (const part of parts) size += part.length
  const out = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** BEGIN_REQUEST body (spec §5.1): roleB1 roleB0 flags reserved[5]. */
export function encodeBeginRequestBody(role: number, flags: number): Uint8Array {
  if (!Number.isInteger(role) || role < 0 || role > 0xffff) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid role ${role}`)
  }
  if (!Number.isInteger(flags) || flags < 0 || flags > 0xff) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid flags ${flags}`)
  }
  const body = new Uint8Array(8)
  body[0] = role >>> 8
  body[1] = role & 0xff
  body[2] = flags
  return body
}

/** Decode an 8-byte BEGIN_REQUEST body; the caller checked its length (F-12). */
export function decodeBeginRequestBody(body: Uint8Array): { role: number; flags: number } {
  return { role: (body[0]! << 8) | body[1]!, flags: body[2]! }
}

/** END_REQUEST body (spec §5.5): appStatus (32-bit big-endian), protocolStatus, reserved[3]. */
export function encodeEndRequestBody(appStatus: number, protocolStatus: number): Uint8Array {
  checkEndRequest(appStatus, protocolStatus)
  const body = new Uint8Array(8)
  writeEndRequestBody(body, 0, appStatus, protocolStatus)
  return body
}

/**
 * Write an END_REQUEST body at `offset` (fields already checked by checkEndRequest).
 * A negative appStatus is stored as its 32-bit two's complement pattern.
 */
export function writeEndRequestBody(
  target: Uint8Array,
  offset: number,
  appStatus: number,
  protocolStatus: number,
): void {
  const status = appStatus >>> 0
  target[offset] = status >>> 24
  target[offset + 1] = (status >>> 16) & 0xff
  target[offset + 2] = (status >>> 8) & 0xff
  target[offset + 3] = status & 0xff
  target[offset + 4] = protocolStatus
  target.fill(0, offset + 5, offset + 8)
}

/** Throw unless appStatus is a 32-bit integer and protocolStatus a byte. */
export function checkEndRequest(appStatus: number, protocolStatus: number): void {
  if (!Number.isInteger(appStatus) || appStatus < -0x80000000 || appStatus > 0xffffffff) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid appStatus ${appStatus}`)
  }
  if (!Number.isInteger(protocolStatus) || protocolStatus < 0 || protocolStatus > 255) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid protocolStatus ${protocolStatus}`)
  }
}

/** Decode an 8-byte END_REQUEST body; appStatus comes back unsigned. */
export function decodeEndRequestBody(body: Uint8Array): {
  appStatus: number
  protocolStatus: number
} {
  const appStatus = ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0
  return { appStatus, protocolStatus: body[4]! }
}

/** UNKNOWN_TYPE body (spec §4.2): the unknown type, then 7 reserved bytes. */
export function encodeUnknownTypeBody(type: number): Uint8Array {
  const body = new Uint8Array(8)
  body[0] = type
  return body
}
