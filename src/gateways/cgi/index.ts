// The `tsgi/cgi` entry point: the CGI gateway (RFC 3875) and the pure builders it shares with the
// FastCGI responder and the dev server. Loading it in a CGI process scrubs HTTP_PROXY (see run.ts).

export {
  buildEnviron,
  type CgiVars,
  contentLengthOf,
  type GatewayKeys,
  mergeVars,
  urlSchemeOf,
} from '../../protocol/cgi/environ.js'
export { allowsBody, type CgiHeadOptions, encodeLatin1, formatCgiHead } from '../../protocol/cgi/head.js'
export { type CgiOptions, runCgi, runCgiExport } from './run.js'
