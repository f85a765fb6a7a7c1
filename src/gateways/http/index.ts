// tsgi/server: the development HTTP server (wsgiref.simple_server's counterpart).

export { SERVER_SOFTWARE, VERSION } from '../../version.js'
export type { AccessEntry } from './access-log.js'
export { formatAccessLog } from './access-log.js'
export type { DevServer, ListenerOptions, ServeOptions } from './server.js'
export { createRequestListener, MAX_LOCAL_REDIRECTS, serve } from './server.js'
