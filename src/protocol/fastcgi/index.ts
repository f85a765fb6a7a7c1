// Public API of the sans-IO FastCGI 1.0 codec (`tsgi/fastcgi/protocol`): constants, record and
// name-value codecs, limits, and the two connection state machines (application and web server).

export {
  ApplicationConnection,
  type ApplicationOptions,
  type RequestInfo,
} from './application.js'
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
  recordTypeName,
  VERSION_1,
} from './constants.js'
export type * from './events.js'
export { NEED_DATA } from './events.js'
export { DEFAULT_LIMITS, type Limits, resolveLimits } from './limits.js'
export {
  decodeLength,
  decodeParams,
  encodeLength,
  encodeParams,
  lengthSize,
  MAX_NAME_VALUE_LENGTH,
  type Pair,
  ParamsDecoder,
} from './params.js'
export { RecordReader } from './reader.js'
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
  type Padding,
  paddingFor,
  type RecordHeader,
  type StreamOptions,
} from './record.js'
export { WebServerConnection, type WebServerOptions } from './web-server.js'
