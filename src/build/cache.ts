// The compile cache's directory and entries (bin/tsgi-cgi.cjs reads them on every request): a directory of this
// user's own, and per entry a CommonJS bundle plus a record of its inputs (path, stat, sha256), each written
// to a temporary file and renamed, so a reader never sees half of one (S-24).
import { createHash } from 'node:crypto'
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'

/** Where the cache goes, as bin/tsgi-cgi.cjs decides it; `fallback` when the first cannot be made. */
export interface Place {
  dir: string
  /** What chose it (`TSGI_CACHE_DIR`, `HOME`...), for the log line. */
  from: string
  fallback?: Place
}

export interface EntryRecord {
  key: string
  /** The bundle's file name in the cache directory. */
  bundle: string
  esbuild: string
  /** [path, dev:ino:size:mtimeNs:ctimeNs, sha256 of the content]. */
  inputs: Array<[string, string, string]>
}

/** A directory refused or that cannot be made: why, and the directory. */
export interface Refusal {
  dir: string
  problem: string
}

// A file written in the last RACY_NS before a compile began may have changed while it compiled with the same
// stat tuple: such an entry is not kept. 20 ms covers a kernel tick of the coarse clock that stamps files.
const RACY_NS = 20_000_000n

/** The cache directory, made (mode 0700) if missing; a Refusal when it is unsafe or cannot be made (S-24). */
export function openCacheDir(place: Place): { dir: string } | Refusal {
  const made = makeDir(place)
  if (!('problem' in made)) return made
  // $HOME/.cache/tsgi is used when HOME is usable: a web server's user (www-data, HOME=/var/www) falls back.
  if (place.fallback !== undefined && made.problem.startsWith('cannot be created')) return openCacheDir(place.fallback)
  return made
}

function makeDir({ dir, from }: Place): { dir: string } | Refusal {
  try {
    // Root must not create a HOME of /nonexistent: a HOME is used only when it is there.
    if (from === 'HOME' && !statSync(join(dir, '..', '..')).isDirectory()) return { dir, problem: 'cannot be created' }
    if (lstatSync(dir, { throwIfNoEntry: false }) === undefined) mkdirSync(dir, { recursive: true, mode: 0o700 })
    const problem = unsafe(lstatSync(dir), 'directory')
    return problem === undefined ? { dir } : { dir, problem }
  } catch (error) {
    return { dir, problem: `cannot be created (${codeOf(error)})` }
  }
}

/** Why a cache directory or entry file may not be used, or undefined (the rules of bin/tsgi-cgi.cjs). */
export function unsafe(stat: Stats, kind: 'directory' | 'file'): string | undefined {
  if (stat.isSymbolicLink()) return 'is a symbolic link'
  if (kind === 'directory' ? !stat.isDirectory() : !stat.isFile()) return `is not a ${kind}`
  const uid = process.geteuid!()
  if (stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this process's uid ${uid}`
  if ((stat.mode & 0o022) !== 0) return `is writable by group or others (mode 0${(stat.mode & 0o777).toString(8)})`
  return undefined
}

/** The record of entry `name`, if it is a file of ours (read without following a link) for `key`. */
export function readRecord(dir: string, name: string, key: string): EntryRecord | undefined {
  let fd: number | undefined
  try {
    fd = openSync(join(dir, `${name}.json`), constants.O_RDONLY | constants.O_NOFOLLOW)
    if (unsafe(fstatSync(fd), 'file') !== undefined) return undefined
    const record = JSON.parse(readFileSync(fd, 'utf8')) as EntryRecord
    return record.key === key ? record : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** dev:ino:size:mtimeNs:ctimeNs, or '' for a file that is gone (as bin/tsgi-cgi.cjs computes it). */
export function statKey(file: string): string {
  try {
    const s = statSync(file, { bigint: true })
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
  } catch {
    return '' // not there or not reachable
  }
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

function contentHash(file: string): string {
  try {
    return sha256(readFileSync(file))
  } catch {
    return ''
  }
}

/**
 * The bundle of entry `name` when every input whose stat changed still has the content it was compiled
 * from (a `touch`, a checkout that rewrote the same bytes); the record then takes the new stats. Undefined
 * when an input's content changed or the entry is missing or not ours.
 */
export function revalidate(dir: string, name: string, key: string): string | undefined {
  const record = readRecord(dir, name, key)
  if (record === undefined || !isOurs(join(dir, record.bundle))) return undefined
  let refreshed = false
  let racy = false
  const now = BigInt(Date.now()) * 1_000_000n
  for (const input of record.inputs) {
    const stamp = statKey(input[0])
    if (stamp === input[1]) continue
    if (contentHash(input[0]) !== input[2]) return undefined
    input[1] = stamp
    refreshed = true
    racy ||= isRacy(stamp, now)
  }
  if (refreshed && !racy) writeAtomically(dir, `${name}.json`, JSON.stringify(record))
  return join(dir, record.bundle)
}

function isOurs(file: string): boolean {
  try {
    return unsafe(lstatSync(file), 'file') === undefined
  } catch {
    return false
  }
}

/**
 * Writes entry `name`: the bundle (and its source map) under a name of its own content, then its record. Returns the bundle's path,
 * or undefined when an input changed since `startedNs` (the entry would not match its inputs: not kept).
 */
export function writeEntry(
  dir: string,
  entry: { name: string; key: string; esbuild: string; code: Uint8Array; map: string; inputs: string[] },
  startedNs: bigint,
): string | undefined {
  const inputs = entry.inputs.map((file): [string, string, string] => [file, statKey(file), contentHash(file)])
  if (inputs.some(([, stamp]) => isRacy(stamp, startedNs))) return undefined
  const bundle = `${entry.name}-${sha256(entry.code).slice(0, 16)}.cjs`
  const old = readRecord(dir, entry.name, entry.key)
  writeAtomically(dir, `${bundle}.map`, entry.map)
  writeAtomically(dir, bundle, entry.code)
  const record: EntryRecord = { key: entry.key, bundle, esbuild: entry.esbuild, inputs }
  writeAtomically(dir, `${entry.name}.json`, JSON.stringify(record))
  if (old !== undefined && old.bundle !== bundle) {
    removeQuietly(join(dir, old.bundle))
    removeQuietly(join(dir, `${old.bundle}.map`))
  }
  removeStaleTemporaries(dir)
  return join(dir, bundle)
}

/** Whether a file's ctime is too close to `ns` to trust its stat tuple (RACY_NS; a 1 s clock: the same second). */
function isRacy(stamp: string, ns: bigint): boolean {
  if (stamp === '') return true
  const ctime = BigInt(stamp.slice(stamp.lastIndexOf(':') + 1))
  if (ctime >= ns - RACY_NS) return true
  const second = 1_000_000_000n
  return ctime % second === 0n && ctime >= (ns / second) * second
}

/** A temporary file of ours (O_EXCL, 0600) renamed over `name`: readers see the old file or the new one. */
function writeAtomically(dir: string, name: string, data: Uint8Array | string): void {
  const temp = join(dir, `.${name}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  try {
    writeFileSync(temp, data, { flag: 'wx', mode: 0o600 })
    renameSync(temp, join(dir, name))
  } catch (error) {
    removeQuietly(temp)
    throw error
  }
}

/** Temporary files left by a process killed mid-write, an hour old or more. */
function removeStaleTemporaries(dir: string): void {
  const hourAgo = Date.now() - 3_600_000
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.tmp')) continue
    const stat = lstatSync(join(dir, name), { throwIfNoEntry: false })
    if (stat !== undefined && stat.mtimeMs < hourAgo) removeQuietly(join(dir, name))
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file)
  } catch {
    // Gone already.
  }
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? String(error)
}
