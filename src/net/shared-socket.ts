// The socket a process manager holds for its workers: bound here and never accepted on here. Each worker
// inherits the descriptor and listens on it, so the socket outlives any worker: a connection that arrives
// while none is up waits in the kernel's backlog instead of being refused (O-01).
import net from 'node:net'
import { getSystemErrorName } from 'node:util'
import { TsgiError } from '../errors.js'
import { type BindTarget, type ListenOptions, type ListenSpec, openSocket } from './listen.js'
import { inheritedAddress } from './proc-sockets.js'

export interface SharedSocket {
  /** The descriptor to hand to workers (they listen on it as `{ kind: 'fd', bound: true }`). */
  readonly fd: number
  /** `host:port`, the socket path, or `fd:N` for an inherited one. */
  readonly address: string
  readonly port: number | undefined
  /** Closes our copy and removes a Unix socket we created. */
  close(): void
}

interface RawHandle {
  readonly fd: number
  close(): void
  getsockname?(out: { address?: string; port?: number; family?: string }): number
}

type CreateServerHandle = (address: string, port: number, addressType: number) => RawHandle | number

/** Binds `spec` without listening (the first worker's listen() starts the backlog). */
export async function bindShared(spec: ListenSpec, options: ListenOptions): Promise<SharedSocket> {
  let handle: RawHandle | undefined
  const cleanup = await openSocket(spec, options, async (target) => {
    if (!('fd' in target)) handle = boundHandle(target)
  })
  if (spec.kind === 'fd') return { fd: spec.fd, address: inheritedAddress(spec.fd), port: undefined, close: () => {} }
  const bound = handle!
  const close = (): void => {
    bound.close()
    cleanup()
  }
  if (spec.kind === 'unix') return { fd: bound.fd, address: spec.path, port: undefined, close }
  const name: { address?: string; port?: number; family?: string } = {}
  bound.getsockname?.(name)
  const host = name.family === 'IPv6' ? `[${name.address}]` : (name.address ?? spec.host)
  return { fd: bound.fd, address: `${host}:${name.port}`, port: name.port, close }
}

/** Node's own bind-only step, the one node:cluster uses for handles its workers share. */
function boundHandle(target: Exclude<BindTarget, { fd: number }>): RawHandle {
  const create = (net as unknown as { _createServerHandle?: CreateServerHandle })._createServerHandle
  if (typeof create !== 'function') {
    throw new TsgiError('ERR_LISTEN', 'fcgi: this runtime cannot bind a socket for workers to share (--workers)')
  }
  const result =
    'path' in target
      ? create(target.path, -1, -1)
      : create(target.host === 'localhost' ? '127.0.0.1' : target.host, target.port, net.isIP(target.host) || 4)
  if (typeof result === 'number') {
    const where = 'path' in target ? target.path : `${target.host}:${target.port}`
    const name = getSystemErrorName(result)
    const why = name === 'EADDRINUSE' ? 'the address is in use' : name
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot listen on ${where}: ${why}`)
  }
  return result
}
