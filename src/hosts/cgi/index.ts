// The CGI host (we are the web server, RFC 3875): runCgiScript runs one request through one script.
// Models: Apache mod_cgi/mod_cgid and Go's net/http/cgi.Handler.
export { DEFAULT_INHERIT, DEFAULT_PATH, scriptEnvironment } from './environment.js'
export { DEFAULT_MAX_HEADER_BYTES, DEFAULT_TIMEOUT_MS, runCgiScript } from './run.js'
export type { CgiExit, CgiRequest, CgiResponse } from './types.js'
