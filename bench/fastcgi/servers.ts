// The processes under test, started the way users start them: the responder as
// `node bin/tsgi.js fastcgi <compiled app> --listen ...`, node:http as a plain script; plus the bench's
// own entries (generator, bench/parser.ts, fixture apps) compiled once by esbuild into a temp dir.
import { join, resolve } from 'node:path'
import { build } from 'esbuild'
import type { GenConfig, GenResult } from '../../src/bench/loadgen.js'
import { childPids } from '../../src/bench/proc-stats.js'
import { run, type Started, start, stop, waitFor } from '../../src/bench/procs.js'

export const root = resolve(import.meta.dirname, '..', '..')
const node = process.execPath

export interface Compiled {
  loadgen: string
  httpHello: string
  parser: string
  netSink: string
  hello: string
  bulk: string
}

/**
 * Bundles each entry (name: path from the repository root) to `dir/name.mjs`, ESM for Node 20. Bundled
 * CommonJS packages (Express) get a `require` of their own.
 */
export async function bundle(entries: Record<string, string>, dir: string): Promise<void> {
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, path]) => [name, join(root, path)])),
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  })
}

/** Compiles the bench entries to ESM in `dir` (the seed's examples/hello.ts is the hello app). */
export async function compile(dir: string): Promise<Compiled> {
  const entries = {
    loadgen: 'bench/fastcgi/loadgen.ts',
    'http-hello': 'bench/fastcgi/http-hello.ts',
    parser: 'bench/parser.ts',
    'net-sink': 'bench/fastcgi/net-sink.ts',
    hello: 'examples/hello.ts',
    bulk: 'bench/fastcgi/apps/bulk.ts',
  }
  await bundle(entries, dir)
  const at = (name: string): string => join(dir, `${name}.mjs`)
  return {
    loadgen: at('loadgen'),
    httpHello: at('http-hello'),
    parser: at('parser'),
    netSink: at('net-sink'),
    hello: at('hello'),
    bulk: at('bulk'),
  }
}

export interface Server {
  name: string
  proc: Started
  pid: number
  /** Every process whose CPU counts as the server's (a pool: its manager and workers); default [pid]. */
  pids?: number[]
  /** Where the generator connects. */
  target: { path: string } | { host: string; port: number }
}

function targetOf(address: string): Server['target'] {
  const m = /^(.*):(\d+)$/.exec(address)
  return address.startsWith('/') || !m ? { path: address } : { host: m[1]!, port: Number(m[2]) }
}

/** The V8 flags bin/tsgi.js starts a responder with (its shebang). */
export const RESPONDER_FLAGS = ['--max-semi-space-size=2']

/**
 * `node FLAGS bin/tsgi.js fastcgi APP --listen LISTEN`, by default with bin/tsgi.js's own flags; other
 * flags (or none) switch off its restart with them (TSGI_V8_FLAGS=off). Ready when it prints its address.
 */
export async function startResponder(
  name: string,
  app: string,
  listen: string,
  flags: string[] = RESPONDER_FLAGS,
): Promise<Server> {
  const args = [join(root, 'bin', 'tsgi.js'), 'fastcgi', app, '--listen', listen, '--allow-root'] // bench may run as root
  const own = flags.join(' ') === RESPONDER_FLAGS.join(' ')
  const proc = start(node, [...flags, ...args], root, own ? {} : { TSGI_V8_FLAGS: 'off' })
  const m = await waitFor(proc, /FastCGI responder on (\S+) \(pid/)
  return { name, proc, pid: proc.pid, target: targetOf(m[1]!) }
}

/**
 * `tsgi fastcgi APP --listen LISTEN --workers N`: ready when every worker serves; its CPU is the manager's
 * and the workers' together (they do not change during a bench: no recycling options).
 */
export async function startPool(name: string, app: string, listen: string, workers: number): Promise<Server> {
  const args = [
    join(root, 'bin', 'tsgi.js'),
    'fastcgi',
    app,
    '--listen',
    listen,
    '--allow-root',
    '--workers',
    String(workers),
  ]
  const proc = start(node, [...RESPONDER_FLAGS, ...args], root)
  const m = await waitFor(proc, /FastCGI manager on (\S+) \(pid (\d+)/)
  await waitFor(proc, /worker\(s\) serving/, 30_000)
  const manager = Number(m[2])
  return { name, proc, pid: manager, pids: [manager, ...childPids(manager)], target: targetOf(m[1]!) }
}

/** A plain Node script (node:http hello, net sink) on a port (0: any) or a Unix socket path. */
export async function startHttp(name: string, script: string, listen: string, extra: string[] = []): Promise<Server> {
  const proc = start(node, [script, listen, ...extra], root)
  const m = await waitFor(proc, /listening (\S+)/)
  return { name, proc, pid: proc.pid, target: targetOf(m[1]!) }
}

export async function stopServer(server: Server): Promise<void> {
  await stop(server.proc)
}

/** One generator run in its own process; rejects on a failed check or a hang. */
export async function generate(script: string, config: GenConfig): Promise<GenResult> {
  const budget = config.warmupMs + config.durationMs + 30_000
  const out = await run(node, [script, JSON.stringify(config)], budget)
  return JSON.parse(out.trim().split('\n').pop()!) as GenResult
}
