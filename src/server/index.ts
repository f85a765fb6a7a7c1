// tsgi/server: the development HTTP server (wsgiref.simple_server's counterpart).
export { createRequestListener, serve, MAX_LOCAL_REDIRECTS } from './dev.js'
export type { DevServer, ListenerOptions, ServeOptions } from './dev.js'
export { formatAccessLog } from './access-log.js'
export type { AccessEntry } from './access-log.js'
export { SERVER_SOFTWARE, VERSION } from './version.js'
