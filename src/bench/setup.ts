// Everything the rows need, made or started once per run in a temp dir: the CGI scripts, the front, the
// responders, the dev server, Apache and nginx. A row that cannot run gets the reason instead.
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { GenResult } from './loadgen.js'
import { FRONT_SCRIPTS, type Mode, type ModeId, modeOf } from './modes.js'
import { childPids, peakKb, processTree, resetPeak } from './proc-stats.js'
import { killAll, type Started, stop } from './procs.js'
import { cpuLogReader, cpuPreload } from './rss.js'
import { type AppSpec, type Made, writeBare, writeBuild, writeCached, writeEsm, writeTsx } from './scripts.js'
import { childPath, type Responder, type Running, startDevServer, startFront, startResponder } from './servers.js'
import { apacheMissing, nginxMissing, startApache, startNginx, type WebServer } from './webservers.js'

export interface Live {
  mode: Mode
  skip?: string
  /** Where its HTTP requests go (absent for in-process), and the path that reaches the app's root. */
  port?: number
  mount: string
  /** Processes whose CPU the generator reads at the window edges: own (utime+stime) and reaped children's. */
  pids: number[]
  reaped: number[]
  /** CGI rows: requests still running when a window ends are dropped; true once their processes are gone. */
  settled?: () => boolean
  /** The server's and the front's CPU (ms) of one window. */
  split: (r: GenResult) => { server: number; front?: number }
  /** Resident rows: the worker whose peak RSS counts. */
  worker?: number
  /** CGI rows: the script whose per-request peak RSS counts. */
  script?: string
}

export interface Setup {
  dir: string
  live: Live[]
  /** The PATH the front gives its CGI scripts. */
  path: string
  close(): Promise<void>
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

/** Makes the scripts and starts the servers the chosen modes need; close() stops them and removes the dir. */
export async function setUp(modes: ModeId[], app: AppSpec): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-'))
  chmodSync(dir, 0o755) // the web server's user runs the scripts in it
  const procs: Started[] = []
  const close = async (): Promise<void> => {
    await Promise.all(procs.map((proc) => stop(proc)))
    killAll() // what failed to start
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    const live = await prepare(modes, app, dir, procs)
    return { dir, live, path: childPath(join(dir, 'bin')), close }
  } catch (error) {
    await close()
    throw error
  }
}

async function prepare(modes: ModeId[], app: AppSpec, dir: string, procs: Started[]): Promise<Live[]> {
  const [cgiBin, lib, bin] = ['cgi-bin', 'lib', 'bin'].map((name) => folder(dir, name)) as [string, string, string]
  const track = <T extends { proc: Started }>(server: T): T => {
    procs.push(server.proc)
    return server
  }
  const want = (id: ModeId): boolean => modes.includes(id)
  const frontNeeded = modes.some((id) => FRONT_SCRIPTS[id] !== undefined) || want('fastcgi')
  const socket = want('fastcgi') ? join(dir, 'fastcgi.sock') : undefined
  const [scripts, responder, front, dev, nginx] = await Promise.all([
    makeScripts(modes, app, { cgiBin, lib, bin }),
    want('fastcgi') ? attempt(startResponder(dir, app, 'fastcgi').then(track)) : undefined,
    frontNeeded ? attempt(startFront(dir, cgiBin, socket, bin).then(track)) : undefined,
    want('dev-server') ? attempt(startDevServer(dir, app).then(track)) : undefined,
    want('nginx-fastcgi') ? nginxFor(dir, app, track) : undefined,
  ])
  const apache = want('apache-cgid') ? await apacheFor(dir, cgiBin, scripts.get('cgi-build'), track) : undefined
  return modes.map((id) => {
    const mode = modeOf(id)
    const none: Live = { mode, mount: '', pids: [], reaped: [], split: () => ({ server: NaN }) }
    if (id === 'in-process') return { ...none, split: (r) => ({ server: r.genCpuMs }), worker: process.pid }
    if (id === 'dev-server') return devServer(none, dev!)
    if (id === 'fastcgi') return fastcgi(none, front!, responder!)
    if (id === 'apache-cgid') return webCgi(none, apache!, scripts.get('cgi-build'))
    if (id === 'nginx-fastcgi') return webFastcgi(none, nginx!)
    return frontCgi(none, front!, scripts.get(id)!)
  })
}

function folder(dir: string, name: string): string {
  const path = join(dir, name)
  mkdirSync(path, { mode: 0o755 })
  chmodSync(path, 0o755)
  return path
}

async function makeScripts(modes: ModeId[], app: AppSpec, at: Record<'cgiBin' | 'lib' | 'bin', string>) {
  const made = new Map<ModeId, Made>()
  const wanted = (id: ModeId): boolean => modes.includes(id) || (id === 'cgi-build' && modes.includes('apache-cgid'))
  if (wanted('cgi-tsx')) made.set('cgi-tsx', writeTsx(at.cgiBin, at.lib, app))
  if (wanted('cgi-esm')) made.set('cgi-esm', await writeEsm(at.cgiBin, at.lib, app))
  if (wanted('cgi-build')) made.set('cgi-build', await writeBuild(at.cgiBin, app))
  if (wanted('cgi-cached')) made.set('cgi-cached', writeCached(at.cgiBin, at.bin, app))
  if (wanted('bare-cjs')) made.set('bare-cjs', writeBare(at.cgiBin))
  return made
}

type Attempt<T> = T | { skip: string }

async function attempt<T>(starting: Promise<T>): Promise<Attempt<T>> {
  try {
    return await starting
  } catch (error) {
    return { skip: (error instanceof Error ? error.message : String(error)).replace(/^bench: /, '').slice(0, 300) }
  }
}

async function apacheFor(
  dir: string,
  cgiBin: string,
  build: Made | undefined,
  track: <T extends { proc: Started }>(s: T) => T,
) {
  const missing = apacheMissing()
  if (missing !== undefined) return { skip: missing }
  if (build === undefined || 'skip' in build) return { skip: `no cgi build script: ${build?.skip ?? '?'}` }
  const cpu = cpuPreload(dir)
  const apache = await attempt(startApache(dir, cgiBin, cpu).then(track))
  return 'skip' in apache ? apache : { ...apache, scripts: cpuLogReader(cpu.log) }
}

async function nginxFor(dir: string, app: AppSpec, track: <T extends { proc: Started }>(s: T) => T) {
  const missing = nginxMissing()
  if (missing !== undefined) return { skip: missing }
  const responder = await attempt(startResponder(dir, app, 'nginx').then(track))
  if ('skip' in responder) return responder
  const nginx = await attempt(startNginx(dir, responder.socket).then(track))
  return 'skip' in nginx ? nginx : { nginx, responder }
}

function frontCgi(none: Live, front: Attempt<Running>, made: Made): Live {
  if ('skip' in made) return { ...none, skip: made.skip }
  if ('skip' in front) return { ...none, skip: `the front did not start: ${front.skip}` }
  const name = made.script.split('/').pop()!
  // Children the front has between requests (tsx's esbuild service, from the sources) are not scripts.
  const resident = new Set(childPids(front.pid))
  return {
    ...none,
    port: front.port,
    mount: `/cgi-bin/${name}`,
    pids: [front.pid],
    reaped: [front.pid],
    split: (r) => ({ server: r.reapedCpuMs[front.pid]!, front: r.pidCpuMs[front.pid] }),
    settled: () => childPids(front.pid).every((pid) => resident.has(pid)),
    script: made.script,
  }
}

function fastcgi(none: Live, front: Attempt<Running>, responder: Attempt<Responder>): Live {
  if ('skip' in responder) return { ...none, skip: `the responder did not start: ${responder.skip}` }
  if ('skip' in front) return { ...none, skip: `the front did not start: ${front.skip}` }
  return {
    ...none,
    port: front.port,
    mount: '/fcgi',
    pids: [responder.pid, front.pid],
    split: (r) => ({ server: r.pidCpuMs[responder.pid]!, front: r.pidCpuMs[front.pid] }),
    worker: responder.pid,
  }
}

function devServer(none: Live, dev: Attempt<Running>): Live {
  if ('skip' in dev) return { ...none, skip: `tsgi serve did not start: ${dev.skip}` }
  return { ...none, port: dev.port, pids: [dev.pid], split: (r) => ({ server: r.pidCpuMs[dev.pid]! }), worker: dev.pid }
}

type Apache = WebServer & { scripts: () => { runs: number; ms: number } }

/** Apache's own CPU from /proc; the scripts' from what each wrote at exit, averaged over the window's runs. */
function webCgi(none: Live, apache: Attempt<Apache>, build: Made | undefined): Live {
  if ('skip' in apache) return { ...none, skip: apache.skip }
  const own = apache.own
  const front = (r: GenResult): number => sum(own.map((pid) => r.pidCpuMs[pid] ?? 0))
  const scripts = (r: GenResult): number => {
    const { runs, ms } = apache.scripts()
    return runs === 0 ? Number.NaN : (ms / runs) * r.requests
  }
  return {
    ...none,
    port: apache.port,
    mount: '/cgi-bin/build',
    pids: own,
    split: (r) => ({ server: scripts(r), front: front(r) }),
    settled: () => processTree(apache.proc.pid).length <= own.length,
    ...(build !== undefined && 'script' in build ? { script: build.script } : {}),
  }
}

function webFastcgi(none: Live, both: Attempt<{ nginx: WebServer; responder: Responder }>): Live {
  if ('skip' in both) return { ...none, skip: both.skip }
  const { nginx, responder } = both
  return {
    ...none,
    port: nginx.port,
    mount: '/fcgi',
    pids: [responder.pid, ...nginx.own],
    split: (r) => ({ server: r.pidCpuMs[responder.pid]!, front: sum(nginx.own.map((pid) => r.pidCpuMs[pid] ?? 0)) }),
    worker: responder.pid,
  }
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
