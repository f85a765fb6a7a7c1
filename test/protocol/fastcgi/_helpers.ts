// Shared helpers of the FastCGI protocol tests: hex, fixture segments, draining events.
import { readFileSync } from 'node:fs'
import {
  type ApplicationConnection,
  type ApplicationEvent,
  NEED_DATA,
  type WebServerConnection,
  type WebServerEvent,
} from '../../../src/protocol/fastcgi/index.js'

/** A fixture byte segment: hex, or `count` copies of one hex byte. */
export type Segment = string | { fill: string; count: number }

export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '')
  const out = new Uint8Array(clean.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16)
  return out
}

export function toHex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** A raw record with any padding and reserved byte (what peers may send). */
export function rec(
  type: number,
  id: number,
  content: Uint8Array = new Uint8Array(0),
  pad = 0,
  reserved = 0,
  version = 1,
): Uint8Array {
  const out = new Uint8Array(8 + content.length + pad)
  out.set([version, type, id >> 8, id & 0xff, content.length >> 8, content.length & 0xff, pad, reserved])
  out.set(content, 8)
  return out
}

export function fromSegments(segments: Segment | Segment[]): Uint8Array {
  const list = Array.isArray(segments) ? segments : [segments]
  return concat(
    ...list.map((s) => (typeof s === 'string' ? fromHex(s) : new Uint8Array(s.count).fill(parseInt(s.fill, 16)))),
  )
}

export type AnyConnection = ApplicationConnection | WebServerConnection
export type AnyEvent = ApplicationEvent | WebServerEvent

/** Every event until NEED_DATA (or the closed event, included once). */
export function drain(conn: AnyConnection): AnyEvent[] {
  const events: AnyEvent[] = []
  for (;;) {
    const event = conn.nextEvent()
    if (event === NEED_DATA) return events
    events.push(event)
    if (event.type === 'closed') return events
  }
}

/** Events with byte payloads as hex, for deep equality with fixtures. */
export function normalize(events: AnyEvent[]): unknown[] {
  return events.map((e) => ('data' in e ? { ...e, data: toHex(e.data) } : e))
}

/** Start offsets of the records in a byte string, plus its end (walks the headers). */
export function recordEnds(bytes: Uint8Array): number[] {
  const ends: number[] = []
  let at = 0
  while (at + 8 <= bytes.length) {
    at += 8 + ((bytes[at + 4]! << 8) | bytes[at + 5]!) + bytes[at + 6]!
    ends.push(at)
  }
  return ends
}

/** Output taken from a connection, as hex. */
export function outputHex(conn: AnyConnection): string {
  return toHex(conn.takeOutputBytes())
}

export interface VectorFile {
  vectors: Vector[]
}
export interface Vector {
  id: string
  meaning: string
  source: string
  bytes?: Segment[]
  cases?: Array<[number, string]>
  decode: DecodeSpec | DecodeSpec[]
}
export interface DecodeSpec {
  side: 'application' | 'web-server' | 'params' | 'length'
  setup?: Segment[]
  begin?: number[]
  input?: Segment[]
  options?: Record<string, unknown>
  events?: Array<Record<string, unknown>>
  pairs?: Array<[string, string]>
  error?: string
  output?: string
  header?: Record<string, number>
}

export function loadVectors(): Vector[] {
  const url = new URL('../../fixtures/fastcgi/vectors.json', import.meta.url)
  return (JSON.parse(readFileSync(url, 'utf8')) as VectorFile).vectors
}
