// One entry for a script that a web server may run either way: FastCGI when fd 0 is the listening
// socket mod_fcgid, spawn-fcgi or lighttpd hand over (FastCGI spec §2.2), the CGI adapter otherwise.
import type { App } from '../app.js'
import { isListeningSocket } from '../net/listen.js'
import type { FastcgiOptions } from './fastcgi/options.js'

/**
 * Serves `app` as the process was started: under mod_fcgid/spawn-fcgi as a FastCGI responder on fd 0
 * until SIGTERM, under mod_cgi/mod_cgid as one CGI request. Resolves to an exit code (also set as
 * process.exitCode), like runCgi. The FastCGI code is loaded only when needed: a CGI request pays nothing.
 */
export async function serveAuto(app: App, options: FastcgiOptions = {}): Promise<number> {
  if (isListeningSocket(0)) {
    const { serveFastcgi } = await import('./fastcgi/responder.js')
    const server = await serveFastcgi(app, { handleSignals: true, ...options, listen: 'fd:0' })
    await server.closed
    process.exitCode = 0
    return 0
  }
  const { runCgi } = await import('./cgi/run.js')
  return runCgi(app)
}
