// How the process was started decides how it serves, and this is the one place that decides: FastCGI when
// systemd passed it a socket (F-32) or fd 0 is the listening socket a web server handed over (FastCGI
// spec §2.2: mod_fcgid, spawn-fcgi, lighttpd), CGI when the environment carries a request (RFC 3875
// §4.1.12), else a shell.
import type { App } from '../app.js'
import { isListeningSocket } from '../net/listen.js'
import { activatedBySystemd } from '../net/systemd.js'
import type { FastcgiOptions } from './fastcgi/options.js'

export type StartedAs = 'fastcgi' | 'cgi' | 'shell'

/**
 * `fastcgi` when systemd started this process with sockets (LISTEN_PID is ours: never a CGI request, whatever
 * else the environment holds), or for a *listening* socket on fd 0: Apache mod_cgid hands CGI scripts a
 * connected socket there, so "fd 0 is a socket" would mistake every mod_cgid request for FastCGI.
 * Reads only: the systemd socket is still there for the responder to take.
 */
export function startedAs(env: Readonly<Record<string, string | undefined>> = process.env): StartedAs {
  if (activatedBySystemd(env) || isListeningSocket(0)) return 'fastcgi'
  return env.REQUEST_METHOD !== undefined ? 'cgi' : 'shell'
}

/** Where a process that startedAs `fastcgi` listens: the socket systemd passed, else the one on fd 0. */
export function inheritedListen(env: Readonly<Record<string, string | undefined>> = process.env): 'systemd' | 'fd:0' {
  return activatedBySystemd(env) ? 'systemd' : 'fd:0'
}

/**
 * Serves `app` as the process was started: a FastCGI responder on the inherited socket until SIGTERM, or
 * one CGI request (from a shell, the CGI adapter prints how to try it). Resolves to the exit code, also set as
 * process.exitCode. The FastCGI code is loaded only when needed: a CGI request pays nothing for it.
 */
export async function serveAuto(app: App, options: FastcgiOptions = {}): Promise<number> {
  if (startedAs() === 'fastcgi') {
    const { serveFastcgi } = await import('./fastcgi/responder.js')
    const server = await serveFastcgi(app, { handleSignals: true, ...options, listen: inheritedListen() })
    await server.closed
    process.exitCode = 0
    return 0
  }
  const { runCgi } = await import('./cgi/run.js')
  return runCgi(app)
}
