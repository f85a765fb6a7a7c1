// Public API of `tsgi/fastcgi`: the responder, its listeners and the auto-detecting entry.

export { isListeningSocket, type ListenSpec, parseListen } from '../../net/listen.js'
export { serveAuto } from '../auto.js'
export type { FastcgiOptions } from './options.js'
export { type FastcgiServer, serveFastcgi } from './responder.js'
