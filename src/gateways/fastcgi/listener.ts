// Where and as whom the responder serves: listen, give a Unix socket its owner, write the pid file, then
// drop root, in that order (each step may need the privileges the next one gives up).
import { renameSync, unlinkSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:net'
import { TsgiError } from '../../errors.js'
import { dropPrivileges, resolveIdentity } from '../../net/identity.js'
import { type ListenOptions, type ListenSpec, listenOn } from '../../net/listen.js'
import type { ResolvedOptions } from './options.js'

type Settings = Pick<ResolvedOptions, 'socketOwner' | 'user' | 'socketMode' | 'allowPublic' | 'pidFile'>

/** Starts `server` as configured; resolves with the cleanup to run when it stops. */
export function openListener(server: Server, spec: ListenSpec, opts: Settings): Promise<() => void> {
  return prepareListener(spec, opts, (options) => listenOn(server, spec, options))
}

/** The same steps around any way of opening the socket (`open`; the process manager binds one for its workers). */
export async function prepareListener(
  spec: ListenSpec,
  opts: Settings,
  open: (options: ListenOptions) => Promise<() => void>,
): Promise<() => void> {
  // Names are resolved before binding: a typo fails before anything was created.
  const owner = opts.socketOwner === undefined ? undefined : resolveIdentity(opts.socketOwner, '--socket-owner')
  const user = opts.user === undefined ? undefined : resolveIdentity(opts.user, '--user')
  if (owner !== undefined && spec.kind !== 'unix') {
    throw new TsgiError('ERR_USAGE', 'fcgi: --socket-owner is for a Unix socket (--listen /path/app.sock)')
  }
  const closeSocket = await open({ mode: opts.socketMode, allowPublic: opts.allowPublic, owner })
  const removePid = opts.pidFile === undefined ? () => {} : writePidFile(opts.pidFile)
  if (user !== undefined) {
    try {
      dropPrivileges(user)
    } catch (error) {
      removePid()
      closeSocket()
      throw error
    }
  }
  return () => {
    removePid()
    closeSocket()
  }
}

/** Writes the pid atomically (a reader never sees half a number); the cleanup removes it if it still may. */
function writePidFile(path: string): () => void {
  const temp = `${path}.${process.pid}.tmp`
  try {
    writeFileSync(temp, `${process.pid}\n`, { mode: 0o644 })
    renameSync(temp, path)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new TsgiError('ERR_LISTEN', `fcgi: cannot write the pid file ${path}: ${why}`, { cause: error })
  }
  return () => {
    try {
      unlinkSync(path)
    } catch {
      // Gone already, or its directory is not writable after dropping root: a stale pid file names a dead pid.
    }
  }
}
