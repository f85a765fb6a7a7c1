// The `tsgi/cgi` entry point: the CGI gateway (RFC 3875) and the pure builders it shares with the
// FastCGI responder and the dev server. Loading it in a CGI process scrubs HTTP_PROXY (see run.ts).
export { runCgi, type CgiOptions } from './run.js'
export { buildEnviron, contentLengthOf, mergeVars, urlSchemeOf, type CgiVars, type GatewayKeys } from './environ.js'
export { allowsBody, encodeLatin1, formatCgiHead, type CgiHeadOptions } from './response.js'
