// Public API of the sans-IO FastCGI 1.0 codec (`tsgi/fastcgi/protocol`): constants, record and
// name-value codecs, limits, and the two connection state machines (application and web server).
export {
  FLAG_KEEP_CONN,
  HEADER_LEN,
  MAX_CONNS,
  MAX_CONTENT_LENGTH,
  MAX_PADDING_LENGTH,
  MAX_REQS,
  MAX_REQUEST_ID,
  MAX_TYPE,
  MPXS_CONNS,
  NULL_REQUEST_ID,
  ProtocolStatus,
  RecordType,
  Role,
  VERSION_1,
  recordTypeName,
} from './constants.js'
export {
  concatBytes,
  decodeBeginRequestBody,
  decodeEndRequestBody,
  decodeHeader,
  encodeBeginRequestBody,
  encodeEndRequestBody,
  encodeRecord,
  encodeStream,
  encodeUnknownTypeBody,
  paddingFor,
  type Padding,
  type RecordHeader,
  type StreamOptions,
} from './record.js'
export {
  MAX_NAME_VALUE_LENGTH,
  ParamsDecoder,
  decodeLength,
  decodeParams,
  encodeLength,
  encodeParams,
  lengthSize,
  type Pair,
} from './params.js'
export { DEFAULT_LIMITS, resolveLimits, type Limits } from './limits.js'
export { NEED_DATA } from './events.js'
export type * from './events.js'
export { RecordReader } from './reader.js'
export {
  ApplicationConnection,
  type ApplicationOptions,
  type RequestInfo,
} from './connection.js'
export { WebServerConnection, type WebServerOptions } from './web-server.js'
