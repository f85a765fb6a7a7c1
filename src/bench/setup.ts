// Everything the rows need, made or started once per run in a temp dir: the CGI scripts, the front, the
// responders, the dev servers, the runtimes' own HTTP servers, Apache and nginx, each on the runtimes its
// rows ask for. A row that cannot run gets the reason instead.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Apache, type Attempt, fastcgi, frontCgi, type Live, resident, webCgi, webFastcgi } from './live.js'
import { FRONT_SCRIPTS, type ModeId, type RowSpec } from './modes.js'
import { peakKb, resetPeak } from './proc-stats.js'
import { killAll, type Started, stop } from './procs.js'
import { cpuLogReader, cpuPreload } from './rss.js'
import { type Runtime, type RuntimeName, suffix } from './runtimes.js'
import { type AppSpec, type Made, writeBare, writeBuild, writeCached, writeEsm, writeTsx } from './scripts.js'
import { childPath, startDevServer, startFront, startHttp, startResponder } from './servers.js'
import { apacheMissing, nginxMissing, startApache, startNginx } from './webservers.js'

export interface Setup {
  dir: string
  live: Live[]
  /** The PATH the front gives its CGI scripts. */
  path: string
  close(): Promise<void>
}

type Track = <T extends { proc: Started }>(server: T) => T
type Dirs = Record<'cgiBin' | 'lib' | 'bin', string>

/** Makes the scripts and starts the servers the rows need; close() stops them and removes the dir. */
export async function setUp(specs: RowSpec[], app: AppSpec, runtimes: Runtime[]): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-'))
  chmodSync(dir, 0o755) // the web server's user runs the scripts in it
  const procs: Started[] = []
  const close = async (): Promise<void> => {
    await Promise.all(procs.map((proc) => stop(proc)))
    killAll() // what failed to start
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const [cgiBin, lib, bin] = ['cgi-bin', 'lib', 'bin'].map((name) => folder(dir, name)) as [string, string, string]
    // `#!/usr/bin/env bun` finds the runtime found for the run: `bin` leads the scripts' PATH.
    for (const r of runtimes) if (r.name !== 'node') symlinkSync(r.binary, join(bin, r.name))
    const track: Track = (server) => {
      procs.push(server.proc)
      return server
    }
    const live = await prepare(specs, app, runtimes, { dir, dirs: { cgiBin, lib, bin }, track })
    return { dir, live, path: childPath(bin), close }
  } catch (error) {
    await close()
    throw error
  }
}

interface At {
  dir: string
  dirs: Dirs
  track: Track
}

async function prepare(specs: RowSpec[], app: AppSpec, runtimes: Runtime[], at: At): Promise<Live[]> {
  const { dir, track } = at
  const on = (id: ModeId): Runtime[] =>
    runtimes.filter((r) => specs.some((s) => s.mode.id === id && s.runtime === r.name))
  const each = async <T>(id: ModeId, begin: (r: Runtime) => Promise<T>): Promise<Map<RuntimeName, Attempt<T>>> => {
    const list = on(id)
    const started = await Promise.all(list.map((r) => attempt(begin(r))))
    return new Map(list.map((r, i) => [r.name, started[i]!]))
  }
  const sockets = on('fastcgi').map((r): [string, string] => [
    prefix(r.name),
    join(dir, `fastcgi${suffix(r.name)}.sock`),
  ])
  const frontNeeded = specs.some((s) => FRONT_SCRIPTS[s.mode.id] !== undefined) || sockets.length > 0
  const [scripts, responders, front, devs, https, nginx] = await Promise.all([
    makeScripts(specs, app, at.dirs),
    each('fastcgi', (r) => startResponder(dir, app, `fastcgi${suffix(r.name)}`, r).then(track)),
    frontNeeded ? attempt(startFront(dir, at.dirs.cgiBin, sockets, at.dirs.bin).then(track)) : undefined,
    each('dev-server', (r) => startDevServer(dir, app, r).then(track)),
    each('http', (r) => startHttp(dir, r).then(track)),
    each('nginx-fastcgi', (r) => nginxFor(dir, app, track, r)),
  ])
  const wantApache = on('apache-cgid').length > 0
  const apache = wantApache ? await apacheFor(dir, at.dirs.cgiBin, scripts.get('cgi-build@node'), track) : undefined
  return specs.map(({ mode, runtime, name }) => {
    const none: Live = { mode, name, runtime, mount: '', pids: [], reaped: [], split: () => ({ server: NaN }) }
    if (mode.id === 'in-process') return { ...none, split: (r) => ({ server: r.genCpuMs }), worker: process.pid }
    if (mode.id === 'dev-server') return resident(none, devs.get(runtime)!, 'tsgi serve')
    if (mode.id === 'http') return resident(none, https.get(runtime)!, `the ${runtime} HTTP server`)
    if (mode.id === 'fastcgi') return fastcgi(none, front!, responders.get(runtime)!, prefix(runtime))
    if (mode.id === 'apache-cgid') return webCgi(none, apache!, scripts.get('cgi-build@node'))
    if (mode.id === 'nginx-fastcgi') return webFastcgi(none, nginx.get(runtime)!)
    return frontCgi(none, front!, scripts.get(`${mode.id}@${runtime}`))
  })
}

/** Where the front mounts a runtime's responder: /fcgi for Node's, /fcgi-bun for Bun's. */
function prefix(runtime: RuntimeName): string {
  return `/fcgi${suffix(runtime)}`
}

function folder(dir: string, name: string): string {
  const path = join(dir, name)
  mkdirSync(path, { mode: 0o755 })
  chmodSync(path, 0o755)
  return path
}

/** The CGI scripts by `mode@runtime`. */
async function makeScripts(specs: RowSpec[], app: AppSpec, at: Dirs): Promise<Map<string, Made>> {
  const made = new Map<string, Made>()
  const keys = new Set(specs.map((s) => `${s.mode.id}@${s.runtime}`))
  if (keys.has('apache-cgid@node')) keys.add('cgi-build@node')
  for (const key of keys) {
    const [id, runtime] = key.split('@') as [ModeId, RuntimeName]
    if (id === 'cgi-tsx') made.set(key, writeTsx(at.cgiBin, at.lib, app))
    if (id === 'cgi-esm') made.set(key, await writeEsm(at.cgiBin, at.lib, app))
    if (id === 'cgi-build') made.set(key, await writeBuild(at.cgiBin, app, runtime))
    if (id === 'cgi-cached') made.set(key, writeCached(at.cgiBin, at.bin, app))
    if (id === 'bare-cjs') made.set(key, writeBare(at.cgiBin, runtime))
  }
  return made
}

async function attempt<T>(starting: Promise<T>): Promise<Attempt<T>> {
  try {
    return await starting
  } catch (error) {
    return { skip: (error instanceof Error ? error.message : String(error)).replace(/^bench: /, '').slice(0, 300) }
  }
}

async function apacheFor(dir: string, cgiBin: string, build: Made | undefined, track: Track): Promise<Attempt<Apache>> {
  const missing = apacheMissing()
  if (missing !== undefined) return { skip: missing }
  if (build === undefined || 'skip' in build) return { skip: `no cgi build script: ${build?.skip ?? '?'}` }
  const cpu = cpuPreload(dir)
  const apache = await attempt(startApache(dir, cgiBin, cpu).then(track))
  return 'skip' in apache ? apache : { ...apache, scripts: cpuLogReader(cpu.log) }
}

/** A responder on `runtime` behind an nginx of its own, in a folder of its own. */
async function nginxFor(dir: string, app: AppSpec, track: Track, runtime: Runtime) {
  const missing = nginxMissing()
  if (missing !== undefined) return { skip: missing }
  const responder = await attempt(startResponder(dir, app, `nginx${suffix(runtime.name)}`, runtime).then(track))
  if ('skip' in responder) return responder
  const nginx = await attempt(startNginx(folder(dir, `nginx${suffix(runtime.name)}`), responder.socket).then(track))
  return 'skip' in nginx ? nginx : { nginx, responder }
}

/** Peak RSS of a process since the last call for it (VmHWM reset), in MB; undefined when unreadable. */
export function peakSince(pid: number): () => number | undefined {
  const reset = resetPeak(pid)
  return () => {
    try {
      return reset ? (peakKb(pid) * 1024) / 1e6 : undefined
    } catch {
      return undefined
    }
  }
}
