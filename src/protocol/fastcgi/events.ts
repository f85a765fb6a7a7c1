// Events returned by nextEvent() on either side of a FastCGI connection (h11 style: nouns, plus the
// NEED_DATA sentinel). Payload `data` fields are views of the received bytes (zero copy).
import type { ProtocolStatus, Role } from './constants.js'
import type { Pair } from './params.js'

/** Returned by nextEvent() when no whole record is buffered: feed more bytes. */
export const NEED_DATA: unique symbol = Symbol('NEED_DATA')
export type NeedData = typeof NEED_DATA

/** The peer closed its side (receiveData with an empty array). Returned again on every call. */
export interface ClosedEvent {
  type: 'closed'
  /** EOF cut a record short (S-11): the peer failed mid-write. */
  midRecord: boolean
  /** Requests still active: their streams will never end, gateways abort them. */
  activeRequestIds: number[]
}

// --- Application side (we are the responder; the web server talks to us) ---

/** PARAMS ended (F-17: never before): the request can be handled. */
export interface RequestEvent {
  type: 'request'
  requestId: number
  /** Role.Responder, Role.Authorizer or Role.Filter (only roles the connection accepts). */
  role: Role
  keepConn: boolean
  /** In arrival order, duplicates kept: merging is the environ builder's job (S-18). */
  params: Pair[]
}

/** A non-empty STDIN or DATA record: `data` is a view of the received bytes. */
export interface StdinEvent {
  type: 'stdin'
  requestId: number
  data: Uint8Array
}
export interface DataEvent {
  type: 'data'
  requestId: number
  data: Uint8Array
}
export interface StdinEndEvent {
  type: 'stdin-end'
  requestId: number
}
export interface DataEndEvent {
  type: 'data-end'
  requestId: number
}

/**
 * ABORT_REQUEST for an active request (spec §5.4). The application answers with END_REQUEST.
 * `ended` is true when the abort came before the request event: the connection already answered
 * END_REQUEST(appStatus 0, REQUEST_COMPLETE) and the id is free again.
 */
export interface AbortEvent {
  type: 'abort'
  requestId: number
  ended: boolean
}

/** A BEGIN_REQUEST refused in-protocol; the END_REQUEST reply is already in the outbox. */
export interface RejectedEvent {
  type: 'rejected'
  requestId: number
  role: number
  keepConn: boolean
  /** CantMpxConn (F-15, V-23), Overloaded (F-16, V-20) or UnknownRole (F-13, V-21). */
  protocolStatus: ProtocolStatus
}

export type ApplicationEvent =
  | RequestEvent
  | StdinEvent
  | StdinEndEvent
  | DataEvent
  | DataEndEvent
  | AbortEvent
  | RejectedEvent
  | ClosedEvent

// --- Web-server side (we are the client; the application talks to us) ---

export interface StdoutEvent {
  type: 'stdout'
  requestId: number
  data: Uint8Array
}
export interface StdoutEndEvent {
  type: 'stdout-end'
  requestId: number
}
export interface StderrEvent {
  type: 'stderr'
  requestId: number
  data: Uint8Array
}
export interface StderrEndEvent {
  type: 'stderr-end'
  requestId: number
}

/** END_REQUEST (spec §5.5): the request is over and its id free again. */
export interface EndRequestEvent {
  type: 'end-request'
  requestId: number
  /** Unsigned 32-bit: the exit status a CGI program would have returned (F-23). */
  appStatus: number
  protocolStatus: number
}

/** One GET_VALUES_RESULT record (spec §4.1). Go sends an extra empty one (V-24). */
export interface ValuesEvent {
  type: 'values'
  pairs: Pair[]
}

/** The application did not know a record type we sent (spec §4.2). */
export interface UnknownTypeEvent {
  type: 'unknown-type'
  recordType: number
}

export type WebServerEvent =
  | StdoutEvent
  | StdoutEndEvent
  | StderrEvent
  | StderrEndEvent
  | EndRequestEvent
  | ValuesEvent
  | UnknownTypeEvent
  | ClosedEvent
