// Where a FastCGI responder listens: TCP, a Unix socket (created without a permission race, stale
// sockets replaced, regular files never), the listening socket a web server left on fd 0, or the one
// systemd passed on fd 3 (socket activation, ./systemd.ts).
import { chmodSync, chownSync, lstatSync, readlinkSync, statSync, unlinkSync } from 'node:fs'
import { connect, isIP, type Server, type Socket } from 'node:net'
import { dirname } from 'node:path'
import { TsgiError } from '../errors.js'
import type { Identity } from './identity.js'
import { isListeningSocket } from './proc-sockets.js'
import { requireSystemdSocket } from './systemd.js'

export { isListeningSocket }

export type ListenSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  /** `bound`: a socket our process manager bound for its workers; the first of them makes it listen. */
  | { kind: 'fd'; fd: number; bound?: boolean }

/** Where one bind step puts a socket: an inherited descriptor, a TCP address or a Unix path. */
export type BindTarget = { fd: number } | { host: string; port: number } | { path: string }

/**
 * Parses `127.0.0.1:9000`, `9000`, `[::1]:9000`, `/run/app.sock`, `unix:/run/app.sock`, `fd:0`, and `systemd`:
 * the socket systemd passed (F-32), taken from the environment (which is cleared of LISTEN_*), so parse
 * `systemd` once, in the process that listens; without such a socket it throws, saying how to set one up.
 */
export function parseListen(spec: string): ListenSpec {
  if (spec === 'systemd') return requireSystemdSocket()
  const fd = /^fd:(\d+)$/.exec(spec)
  if (fd) return { kind: 'fd', fd: Number(fd[1]) }
  if (spec.startsWith('unix:')) return { kind: 'unix', path: spec.slice(5) }
  if (spec.startsWith('/') || spec.startsWith('./')) return { kind: 'unix', path: spec }
  const tcp = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(spec) ?? /^()()(\d+)$/.exec(spec)
  if (!tcp) {
    const hint = 'use HOST:PORT, PORT, /path/app.sock, unix:PATH, fd:N or systemd'
    throw new TsgiError('ERR_USAGE', `fcgi: cannot parse listen address ${JSON.stringify(spec)} (${hint})`)
  }
  const port = Number(tcp[3])
  if (port > 65535)
    throw new TsgiError('ERR_USAGE', `fcgi: port ${port} in ${JSON.stringify(spec)} is out of range (0 to 65535)`)
  return { kind: 'tcp', host: tcp[1] || tcp[2] || '127.0.0.1', port }
}

/** True for loopback addresses; anything else is public and needs an explicit opt-in (S-16). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::ffff:127.0.0.1'
}

export interface ListenOptions {
  /** Unix socket permissions (default 0o600, like spawn-fcgi -M 0600). */
  mode?: number
  /** Allow a non-loopback TCP address. */
  allowPublic?: boolean
  /** Owner and group of a Unix socket (needs root, or membership of the group). */
  owner?: Identity
  backlog?: number
}

/** Starts `server` on `spec`; resolves with a cleanup that unlinks a Unix socket we created. */
export function listenOn(server: Server, spec: ListenSpec, options: ListenOptions = {}): Promise<() => void> {
  const backlog = options.backlog ?? 511
  return openSocket(spec, options, (target) => bind(server, { ...target, backlog }))
}

/**
 * The checks and steps around binding `spec` that every listener shares (S-16: loopback unless allowed, a
 * Unix socket created with its final mode, stale sockets replaced, owner set); `bindTo` does the bind itself.
 */
export async function openSocket(
  spec: ListenSpec,
  options: ListenOptions,
  bindTo: (target: BindTarget) => Promise<void>,
): Promise<() => void> {
  if (spec.kind === 'fd') {
    if (spec.bound !== true) checkInheritedSocket(spec.fd)
    await bindTo({ fd: spec.fd })
    return () => {}
  }
  if (spec.kind === 'tcp') {
    if (!isLoopback(spec.host) && !options.allowPublic) {
      throw new TsgiError(
        'ERR_LISTEN',
        `fcgi: refusing to listen on public address ${spec.host}: anyone who reaches a FastCGI port controls every CGI variable; pass --public to allow it`,
      )
    }
    await bindTo({ host: spec.host, port: spec.port })
    return () => {}
  }
  return openUnix(spec.path, options, bindTo)
}

async function openUnix(
  path: string,
  options: ListenOptions,
  bindTo: (target: BindTarget) => Promise<void>,
): Promise<() => void> {
  const mode = options.mode ?? 0o600
  checkDirectory(path)
  await removeStaleSocket(path)
  // Create the socket under a umask that already yields `mode`: no window where it is wider (S-16).
  const previous = process.umask(0o777 & ~mode)
  try {
    await bindTo({ path })
  } finally {
    process.umask(previous)
  }
  chmodSync(path, mode)
  // listen.owner/listen.group: the web server's user reaches the socket through its group, nobody else.
  if (options.owner !== undefined) chownSocket(path, options.owner)
  const { ino } = lstatSync(path)
  return () => {
    try {
      if (lstatSync(path).ino === ino) unlinkSync(path)
    } catch {
      // already gone
    }
  }
}

/** Unlinks a socket nobody listens on; refuses regular files and live sockets. */
async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean
  try {
    isSocket = lstatSync(path).isSocket()
  } catch {
    return // nothing there
  }
  if (!isSocket) throw new TsgiError('ERR_LISTEN', `fcgi: ${path} exists and is not a socket; refusing to replace it`)
  const live = await new Promise<boolean>((resolve) => {
    const probe = connect(path)
    probe.once('connect', () => {
      probe.destroy()
      return resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
  if (live) throw new TsgiError('ERR_LISTEN', `fcgi: ${path} is in use by a running server`)
  unlinkSync(path)
}

function bind(server: Server, options: Parameters<Server['listen']>[0]): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new TsgiError('ERR_LISTEN', `fcgi: cannot listen: ${err.message}`, { cause: err }))
    server.once('error', onError)
    server.listen(options, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/**
 * FastCGI spec §3.2 FCGI_WEB_SERVER_ADDRS: a comma-separated list of IPv4 addresses allowed to connect.
 * A malformed list fails at start-up (closed, not open). IPv6 entries are accepted too.
 */
export function parseAllowList(value: string): Set<string> {
  const list = new Set<string>()
  for (const part of value.split(',')) {
    const address = part.trim()
    if (address === '') continue
    if (isIP(address) === 0)
      throw new TsgiError('ERR_USAGE', `fcgi: FCGI_WEB_SERVER_ADDRS has a bad address ${JSON.stringify(address)}`)
    list.add(address)
  }
  return list
}

/**
 * Whether a peer may talk to us. Unix-socket peers have no address: the spec says to reject
 * connections that "didn't use TCP/IP transport"; libfcgi lets them pass. We follow libfcgi by
 * default (file permissions guard a Unix socket) and the spec with `strictTransport`.
 */
export function peerAllowed(socket: Socket, allow: Set<string> | undefined, strictTransport = false): boolean {
  if (allow === undefined) return true
  const address = socket.remoteAddress
  if (address === undefined) return !strictTransport
  const plain = address.startsWith('::ffff:') ? address.slice(7) : address
  return allow.has(plain) || allow.has(address)
}

/** A socket path in a directory that does not exist fails with a misleading EACCES or ENOENT: say so. */
function checkDirectory(path: string): void {
  const dir = dirname(path)
  let isDir = false
  try {
    isDir = statSync(dir).isDirectory()
  } catch {
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on ${path}: the directory ${dir} does not exist`)
  }
  if (!isDir) throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on ${path}: ${dir} is not a directory`)
}

function chownSocket(path: string, owner: Identity): void {
  try {
    chownSync(path, owner.uid, owner.gid)
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code === 'EPERM' ? 'only root can give it away' : String(error)
    unlinkSync(path)
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot make ${path} owned by ${owner.user}:${owner.group}: ${why}`)
  }
}

/** `--listen fd:N` needs a listening socket there: say what N is instead of a bare EINVAL or EBADF. */
function checkInheritedSocket(fd: number): void {
  let target: string
  try {
    target = readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    if (!existsProc()) return // not Linux: let listen() tell
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on fd ${fd}: no file descriptor ${fd} is open`)
  }
  if (!target.startsWith('socket:')) {
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on fd ${fd}: it is not a socket (it is ${target})`)
  }
  if (!isListeningSocket(fd)) {
    const why = 'it is a connected socket, not a listening one (a web server hands over its listening socket)'
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on fd ${fd}: ${why}`)
  }
}

function existsProc(): boolean {
  try {
    return statSync('/proc/self/fd').isDirectory()
  } catch {
    return false
  }
}
