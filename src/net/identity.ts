// Who owns a socket and who the serving process runs as, modelled on PHP-FPM's listen.owner/listen.group
// and user/group: names resolved through the system's user database, privileges dropped for good.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { TsgiError } from '../errors.js'

export interface Identity {
  user: string
  uid: number
  /** The group named after the colon, else the user's primary group. */
  group: string
  gid: number
}

/** Parses `USER[:GROUP]` (names or numeric ids) into uids and gids; throws ERR_USAGE naming what is unknown. */
export function resolveIdentity(spec: string, option: string): Identity {
  const [user = '', group] = spec.split(':', 2)
  if (user === '') throw new TsgiError('ERR_USAGE', `${option} needs USER[:GROUP], got ${JSON.stringify(spec)}`)
  const account = lookup('passwd', user)
  if (account === undefined) throw new TsgiError('ERR_USAGE', `${option}: no such user ${JSON.stringify(user)}`)
  const uid = Number(account[2])
  if (group === undefined || group === '') {
    const gid = Number(account[3])
    return { user: account[0]!, uid, group: lookup('group', String(gid))?.[0] ?? String(gid), gid }
  }
  const entry = lookup('group', group)
  if (entry === undefined) throw new TsgiError('ERR_USAGE', `${option}: no such group ${JSON.stringify(group)}`)
  return { user: account[0]!, uid, group: entry[0]!, gid: Number(entry[2]) }
}

/**
 * Drops root for good: supplementary groups, then the group, then the user (in that order: once the uid
 * is not 0 the others can no longer change). Verified afterwards; a failure is fatal, never ignored.
 */
export function dropPrivileges(to: Identity): void {
  const posix = process as unknown as Partial<PosixProcess>
  // Root's supplementary groups must go too (group 0 opens what root's group can): without initgroups or
  // setgroups (Deno has neither) the drop would be partial, so refuse rather than keep them.
  const groups =
    typeof posix.initgroups === 'function'
      ? () => posix.initgroups!(to.user, to.gid)
      : typeof posix.setgroups === 'function'
        ? () => posix.setgroups!([to.gid])
        : undefined
  if (groups === undefined || typeof posix.setgid !== 'function' || typeof posix.setuid !== 'function') {
    const how = 'start it as that user instead (systemd User=, or su/runuser), without --user'
    throw new TsgiError('ERR_LISTEN', `tsgi: this runtime cannot drop root's groups for --user ${to.user}: ${how}`)
  }
  try {
    groups()
    posix.setgid(to.gid)
    posix.setuid(to.uid)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    const hint = (error as NodeJS.ErrnoException).code === 'EPERM' || !isRoot() ? ' (only root can)' : ''
    throw new TsgiError('ERR_LISTEN', `tsgi: cannot switch to user ${to.user}: ${why}${hint}`, { cause: error })
  }
  if (process.getuid?.() !== to.uid || process.getgid?.() !== to.gid) {
    throw new TsgiError('ERR_LISTEN', `tsgi: still running as uid ${process.getuid?.()} after switching to ${to.user}`)
  }
}

// These exist on POSIX systems only; @types/node leaves initgroups out.
interface PosixProcess {
  initgroups(user: string | number, extraGroup: string | number): void
  setgroups(groups: number[]): void
  setgid(id: number): void
  setuid(id: number): void
}

/** True when the process runs as root (uid 0). */
export function isRoot(): boolean {
  return process.getuid?.() === 0
}

/**
 * One entry of the user or group database, by name or numeric id: `getent` asks NSS (LDAP and other
 * sources included); without it, /etc/passwd and /etc/group are read.
 */
function lookup(database: 'passwd' | 'group', key: string): string[] | undefined {
  const getent = spawnSync('getent', [database, key], { encoding: 'utf8', timeout: 5000 })
  if (getent.status === 0 && getent.stdout.trim() !== '') return getent.stdout.trim().split('\n')[0]!.split(':')
  if (getent.error === undefined && getent.status === 2) return undefined // getent: key not found
  const column = /^\d+$/.test(key) ? 2 : 0
  for (const line of readLines(`/etc/${database}`)) {
    const fields = line.split(':')
    if (fields[column] === key) return fields
  }
  return undefined
}

function readLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n')
  } catch {
    return []
  }
}
