// A TSGI app as a node:http listener: toNode(app) mounts it on your own http or https server, in an
// Express or Connect stack, anywhere a `(req, res)` listener goes. It is the dev server's own listener.
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { App } from '../app.js'
import { createRequestListener, type ListenerOptions } from '../gateways/http/server.js'

/** The listener serving `app`; no access log unless `options.log` asks for one. */
export function toNode(app: App, options: ListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  return createRequestListener(app, { log: false, ...options })
}
