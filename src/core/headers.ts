// Status and header validation shared by the engine and the validator (SPEC §4.1, §4.2).
// Everything is checked before a single byte leaves: a bad header never reaches a client (CWE-113).
import type { HeaderList } from '../app.js'
import { TsgiError } from '../errors.js'
import { HOP_BY_HOP, TOKEN } from './http.js'

/** RFC 9110 §5.5 field-value without obs-fold: no CR, LF, NUL or other controls; chars <= 0xFF. */
export const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** `NNN reason` (SPEC §4.1): a final status 200..599, one space, a reason of visible chars. */
const STATUS = /^([2-5]\d\d) ([\t\x20-\x7e\x80-\xff]*)$/

/** Lengths of the names checkHeader looks at: Status, Content-Length and the hop-by-hop ones. */
const CHECKED_LENGTHS = new Set(['status', 'content-length', ...HOP_BY_HOP].map((name) => name.length))

export interface ParsedStatus {
  readonly code: number
  readonly reason: string
}

// Apps answer with a handful of constant status strings: remember them (bounded) instead of running
// the pattern and allocating its match on every response.
const knownStatus = new Map<string, ParsedStatus>()
const KNOWN_STATUS_MAX = 256

/** Parses `"NNN reason"`; throws ERR_BAD_STATUS with the offending value. */
export function parseStatus(status: unknown): ParsedStatus {
  if (typeof status === 'string') {
    const known = knownStatus.get(status)
    if (known !== undefined) return known
  }
  const match = typeof status === 'string' ? STATUS.exec(status) : null
  if (match === null) {
    throw new TsgiError('ERR_BAD_STATUS', `tsgi: status must be "NNN reason" with NNN in 200..599, got ${show(status)}`)
  }
  const parsed: ParsedStatus = Object.freeze({ code: Number(match[1]), reason: match[2]! })
  if (knownStatus.size < KNOWN_STATUS_MAX) knownStatus.set(status as string, parsed)
  return parsed
}

/**
 * Checks every header and returns a private copy (the app may not mutate what was validated).
 * Throws ERR_BAD_HEADER naming the header; the value is quoted with control characters escaped.
 */
export function checkHeaders(headers: unknown): HeaderList {
  if (!Array.isArray(headers)) {
    throw new TsgiError('ERR_BAD_HEADER', `tsgi: headers must be an array of [name, value] pairs, got ${show(headers)}`)
  }
  const copy: HeaderList = []
  let contentLength: string | undefined
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
      throw new TsgiError(
        'ERR_BAD_HEADER',
        `tsgi: each header must be a [name, value] pair of strings, got ${show(pair)}`,
      )
    }
    const [name, value] = pair as [string, string]
    checkHeader(name, value)
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      if (contentLength !== undefined) {
        throw new TsgiError(
          'ERR_BAD_HEADER',
          `tsgi: Content-Length given twice (${show(contentLength)}, ${show(value)})`,
        )
      }
      contentLength = value
    }
    copy.push([name, value])
  }
  return copy
}

function checkHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) {
    throw new TsgiError('ERR_BAD_HEADER', `tsgi: header name ${show(name)} is not an HTTP token`)
  }
  if (!FIELD_VALUE.test(value)) {
    throw new TsgiError(
      'ERR_BAD_HEADER',
      `tsgi: header ${name} has a forbidden character (CR, LF, NUL, control or > 0xFF) in ${show(value)}`,
    )
  }
  // Lowercased only when the length can match a name checked below (most names cannot).
  const lower = CHECKED_LENGTHS.has(name.length) ? name.toLowerCase() : ''
  if (lower === 'status') {
    throw new TsgiError(
      'ERR_BAD_HEADER',
      'tsgi: an app must not send a Status header; pass the status to startResponse',
    )
  }
  if (HOP_BY_HOP.has(lower)) {
    throw new TsgiError('ERR_BAD_HEADER', `tsgi: hop-by-hop header ${name} is not allowed from an app`)
  }
  if (lower === 'content-length' && !/^\d{1,15}$/.test(value)) {
    throw new TsgiError('ERR_BAD_HEADER', `tsgi: Content-Length must be digits, got ${show(value)}`)
  }
}

/** Bytes of the CGI header block for this response: its Status line, each `Name: value` line, the blank line. */
export function headerBlockSize(code: number, reason: string, headers: HeaderList): number {
  let size = `Status: ${code} ${reason}\r\n\r\n`.length
  for (const [name, value] of headers) size += name.length + value.length + 4
  return size
}

/** First value of a header, case-insensitively. */
export function getHeader(headers: HeaderList, name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const [key, value] of headers) if (isHeaderNamed(key, lower)) return value
  return undefined
}

/** Case-insensitive name check; the length test first spares a lowercased copy for most names. */
export function isHeaderNamed(name: string, lowerName: string): boolean {
  return name.length === lowerName.length && (name === lowerName || name.toLowerCase() === lowerName)
}

/** Quotes a value for an error message: escaped, and cut to 80 chars so a log line stays a line. */
export function show(value: unknown): string {
  let text: string
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text
}
