// The HTTP front: serves CGI scripts and FastCGI responders over HTTP, for development and measuring.
export { type Front, type FrontOptions, startFront } from './server.js'
export type { Backend, BackendCall, BackendResponse } from './types.js'
