// `tsgi fastcgi APP --workers N`: binds the socket once, as the lone responder would (mode, owner, pid
// file, then dropping root), runs the manager on it, and maps an operator's signals onto it.
import { prepareListener } from '../gateways/fastcgi/listener.js'
import { type FastcgiOptions, resolveOptions } from '../gateways/fastcgi/options.js'
import type { ListenSpec } from '../net/listen.js'
import { bindShared, type SharedSocket } from '../net/shared-socket.js'
import { Manager } from './manager.js'
import type { PmOptions } from './options.js'

export interface PoolConfig {
  /** The worker's command line after `fastcgi`: the app and its options. */
  appArgs: string[]
  listen: ListenSpec
  /** Socket mode and owner, --user, --pid-file, --public: as for one responder. */
  responder: FastcgiOptions
  pm: PmOptions
  log: (line: string) => void
  /** Stops the pool like SIGTERM (tests, embedding). */
  signal?: AbortSignal | undefined
}

/** Runs the pool until it is stopped; resolves with the exit code (1 after an emergency stop or a failed start). */
export async function runPool(config: PoolConfig): Promise<number> {
  let socket: SharedSocket | undefined
  const cleanup = await prepareListener(config.listen, resolveOptions(config.responder), async (options) => {
    socket = await bindShared(config.listen, options)
    return () => socket?.close()
  })
  const manager = new Manager({ appArgs: config.appArgs, socket: socket!, pm: config.pm, log: config.log })
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGTERM', () => manager.stop(0)],
    ['SIGINT', () => manager.stop(0)],
    ['SIGHUP', () => manager.reload()],
    ['SIGTTIN', () => manager.scale(1)],
    ['SIGTTOU', () => manager.scale(-1)],
  ]
  for (const [signal, handler] of handlers) process.on(signal, handler)
  const onAbort = (): void => manager.stop(0)
  config.signal?.addEventListener('abort', onAbort)
  if (config.signal?.aborted) onAbort()
  config.log(`FastCGI manager on ${socket!.address} (pid ${process.pid}, ${config.pm.workers} worker(s))`)
  try {
    await manager.start()
    config.log(`${manager.workers} worker(s) serving; SIGHUP reloads, SIGTTIN/SIGTTOU add/remove one, SIGTERM stops`)
  } catch {
    // A worker failed to start (its error is in the log) or a stop came first: `done` says which.
  }
  const code = await manager.done
  for (const [signal, handler] of handlers) process.off(signal, handler)
  config.signal?.removeEventListener('abort', onAbort)
  cleanup()
  config.log(`stopped (exit ${code})`)
  return code
}
