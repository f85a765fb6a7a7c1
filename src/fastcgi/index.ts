// Public API of `tsgi/fastcgi`: the responder, its listeners and the auto-detecting entry.
export { serveFastcgi, type FastcgiServer } from './responder.js'
export { serveAuto } from './auto.js'
export type { FastcgiOptions } from './options.js'
export { isListeningSocket, parseListen, type ListenSpec } from './listen.js'
