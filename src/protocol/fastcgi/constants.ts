// FastCGI 1.0 protocol constants (FastCGI spec §8), named as in the spec without the `FCGI_` prefix.
// Pure data: no I/O, no Node APIs.

/** `FCGI_VERSION_1`: the only version this codec speaks (spec §3.3, F-02). */
export const VERSION_1 = 1

/** `FCGI_HEADER_LEN`: every record starts with an 8-byte header (spec §3.3). */
export const HEADER_LEN = 8

/** Largest `contentLength` a record can carry (16-bit field, spec §3.3). */
export const MAX_CONTENT_LENGTH = 65535

/** Largest `paddingLength` (8-bit field, spec §3.3). */
export const MAX_PADDING_LENGTH = 255

/** `FCGI_NULL_REQUEST_ID`: management records use request id 0 (spec §3.3, §4). */
export const NULL_REQUEST_ID = 0

/** Largest request id (16-bit field). */
export const MAX_REQUEST_ID = 65535

/** Record types (spec §8). Types 1-11 are defined; anything else is unknown (spec §4.2). */
export const RecordType = {
  BeginRequest: 1, // FCGI_BEGIN_REQUEST
  AbortRequest: 2, // FCGI_ABORT_REQUEST
  EndRequest: 3, // FCGI_END_REQUEST
  Params: 4, // FCGI_PARAMS
  Stdin: 5, // FCGI_STDIN
  Stdout: 6, // FCGI_STDOUT
  Stderr: 7, // FCGI_STDERR
  Data: 8, // FCGI_DATA
  GetValues: 9, // FCGI_GET_VALUES
  GetValuesResult: 10, // FCGI_GET_VALUES_RESULT
  UnknownType: 11, // FCGI_UNKNOWN_TYPE
} as const
export type RecordType = (typeof RecordType)[keyof typeof RecordType]

/** `FCGI_MAXTYPE`: types above this are unknown to every 1.0 peer. */
export const MAX_TYPE = RecordType.UnknownType

/** Roles carried by BEGIN_REQUEST (spec §5.1, §6). */
export const Role = {
  Responder: 1, // FCGI_RESPONDER
  Authorizer: 2, // FCGI_AUTHORIZER
  Filter: 3, // FCGI_FILTER
} as const
export type Role = (typeof Role)[keyof typeof Role]

/** `FCGI_KEEP_CONN`: BEGIN_REQUEST flags bit 0 (spec §5.1). */
export const FLAG_KEEP_CONN = 1

/** END_REQUEST protocolStatus values (spec §5.5). */
export const ProtocolStatus = {
  RequestComplete: 0, // FCGI_REQUEST_COMPLETE
  CantMpxConn: 1, // FCGI_CANT_MPX_CONN
  Overloaded: 2, // FCGI_OVERLOADED
  UnknownRole: 3, // FCGI_UNKNOWN_ROLE
} as const
export type ProtocolStatus = (typeof ProtocolStatus)[keyof typeof ProtocolStatus]

/** Variable names a GET_VALUES query may ask for (spec §4.1). */
export const MAX_CONNS = 'FCGI_MAX_CONNS'
export const MAX_REQS = 'FCGI_MAX_REQS'
export const MPXS_CONNS = 'FCGI_MPXS_CONNS'

/** Spec names of the record types, for messages and logs. */
const TYPE_NAMES = [
  '',
  'BEGIN_REQUEST',
  'ABORT_REQUEST',
  'END_REQUEST',
  'PARAMS',
  'STDIN',
  'STDOUT',
  'STDERR',
  'DATA',
  'GET_VALUES',
  'GET_VALUES_RESULT',
  'UNKNOWN_TYPE',
]

/** `BEGIN_REQUEST`, `STDIN`, ... or `type 42` for an unknown type. */
export function recordTypeName(type: number): string {
  return TYPE_NAMES[type] || `type ${type}`
}
