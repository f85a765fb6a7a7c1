// systemd socket activation, as sd_listen_fds(3) defines it (F-32): when LISTEN_PID is this process's pid,
// LISTEN_FDS sockets start at fd 3, named by LISTEN_FDNAMES. Taking them clears the three variables, as
// sd_listen_fds(unset_environment=1) does, so no child inherits a socket meant for its parent.
import { TsgiError } from '../errors.js'

/** SD_LISTEN_FDS_START: the first descriptor systemd passes. */
export const SD_LISTEN_FDS_START = 3

type Env = Record<string, string | undefined>

/** What the environment says, read without changing it. */
export type SystemdSockets =
  /** No socket for this process: `unset` (no LISTEN_PID or LISTEN_FDS), or `other` (LISTEN_PID names another process). */
  | { kind: 'none'; reason: 'unset' | 'other'; why: string }
  /** One listening socket, fd 3; `name` is its FileDescriptorName= (by default the .socket unit's name). */
  | { kind: 'socket'; fd: number; name: string | undefined }
  /** Meant for this process (LISTEN_PID is ours) but unusable: LISTEN_FDS garbage or 0, or more than one socket. */
  | { kind: 'invalid'; message: string }

/** Reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES without changing anything. */
export function readSystemdSockets(env: Readonly<Env> = process.env, pid = process.pid): SystemdSockets {
  const owner = env.LISTEN_PID
  if (owner === undefined) return { kind: 'none', reason: 'unset', why: 'LISTEN_PID is not set' }
  if (Number(owner) !== pid || !/^[1-9]\d*$/.test(owner)) {
    return { kind: 'none', reason: 'other', why: `LISTEN_PID=${owner} is not this process (pid ${pid})` }
  }
  const count = env.LISTEN_FDS
  if (count === undefined) return { kind: 'none', reason: 'unset', why: 'LISTEN_FDS is not set' }
  if (!/^\d+$/.test(count) || Number(count) === 0) {
    // sd_listen_fds answers -EINVAL here: systemd sets LISTEN_FDS only when it passes sockets.
    const message = `LISTEN_FDS=${JSON.stringify(count)} is not a number of sockets (1 or more)`
    return { kind: 'invalid', message }
  }
  const n = Number(count)
  const names = env.LISTEN_FDNAMES?.split(':')
  if (n > 1) {
    const fds = Array.from({ length: n }, (_, i) => {
      const name = names?.[i]
      return `fd ${SD_LISTEN_FDS_START + i}${name ? ` (${name})` : ''}`
    })
    const fix = 'give the .socket unit one ListenStream= line (a socket unit per responder)'
    return {
      kind: 'invalid',
      message: `systemd passed ${n} sockets, ${fds.join(', ')}; tsgi serves exactly one: ${fix}`,
    }
  }
  return { kind: 'socket', fd: SD_LISTEN_FDS_START, name: names?.[0] || undefined }
}

/**
 * Whether systemd started this process with sockets for it (LISTEN_PID is ours and LISTEN_FDS is set, even to
 * garbage): such a process is a FastCGI responder, never a CGI request. Reads only; takes nothing.
 */
export function activatedBySystemd(env: Readonly<Env> = process.env, pid = process.pid): boolean {
  return env.LISTEN_FDS !== undefined && env.LISTEN_PID === String(pid)
}

/** The fd this process already took from its own environment (a second take finds the variables gone). */
let taken: number | undefined

/**
 * sd_listen_fds(unset_environment=1): the socket systemd passed, as a ListenSpec, or undefined when it
 * passed none for this process. LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES are removed from `env` in
 * every case. Throws ERR_LISTEN when they are meant for this process but unusable (more than one
 * socket, or a LISTEN_FDS that is no positive number): fail closed rather than listen somewhere else.
 * Call it once, in the process that listens (a process manager: in the parent, before it forks).
 */
export function takeSystemdSocket(env: Env = process.env, pid = process.pid): { kind: 'fd'; fd: number } | undefined {
  const found = take(env, pid)
  return found.kind === 'socket' ? { kind: 'fd', fd: found.fd } : undefined
}

/** `--listen systemd`: takeSystemdSocket, or an error saying why there is no socket and how to set one up. */
export function requireSystemdSocket(env: Env = process.env, pid = process.pid): { kind: 'fd'; fd: number } {
  const found = take(env, pid)
  if (found.kind === 'socket') return { kind: 'fd', fd: found.fd }
  if (found.reason === 'unset' && env === process.env && taken !== undefined) {
    const why = `this process took the socket systemd passed already (fd ${taken}): take it once, then share the ListenSpec`
    throw new TsgiError('ERR_LISTEN', `fcgi: --listen systemd: ${why}`)
  }
  const start = 'fcgi: --listen systemd, but systemd passed this process no socket'
  const hint =
    found.reason === 'other'
      ? 'systemd passes it to the process it starts: ExecStart= must run tsgi itself, not through npm, npx or a shell that forks'
      : 'start it from a socket unit (a .socket beside the .service with ListenStream=/run/tsgi/app.sock, see ' +
        'examples/systemd/; `systemctl enable --now tsgi-app.socket`), or try it by hand with ' +
        '`systemd-socket-activate -l /run/tsgi/app.sock tsgi fastcgi APP --listen systemd`'
  throw new TsgiError('ERR_LISTEN', `${start} (${found.why}): ${hint}`)
}

/** Reads, then clears the variables; throws for an unusable set meant for this process. */
function take(env: Env, pid: number): Exclude<SystemdSockets, { kind: 'invalid' }> {
  const found = readSystemdSockets(env, pid)
  delete env.LISTEN_PID
  delete env.LISTEN_FDS
  delete env.LISTEN_FDNAMES
  if (found.kind === 'invalid') throw new TsgiError('ERR_LISTEN', `fcgi: systemd: ${found.message}`)
  if (found.kind === 'socket' && env === process.env) taken = found.fd
  return found
}
