// A real `tsgi fastcgi APP --workers N` for the process-manager tests: started as users start it (the
// installed command), on a Unix socket in a temporary directory, with our FastCGI client and a bounded
// load driver that counts every answer and every failure.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FastcgiClient } from '../../src/hosts/fastcgi/client.js'
import { CLEAN_ENV, Proc, ROOT, sleep } from '../integration/_harness.js'

export interface Pool {
  proc: Proc
  dir: string
  socket: string
  client: FastcgiClient
  managerPid: number
  /** Resolves when the manager's log has a line matching `pattern` (after `from` characters). */
  logLine(pattern: RegExp, timeoutMs?: number, from?: number): Promise<RegExpExecArray>
  get(path: string, extra?: Record<string, string>): Promise<{ status: number; body: string }>
  /** The same with a connection per request (nginx's default), so that every worker gets to accept some. */
  getFresh(path: string): Promise<{ status: number; body: string }>
  stop(): Promise<number | null>
}

/** Starts the pool; resolves once every worker is ready. As root, serves as `--allow-root` (no user switch). */
export async function startPool(app: string, args: string[], env: Record<string, string> = {}): Promise<Pool> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-pm-'))
  const socket = join(dir, 'app.sock')
  const root = process.getuid?.() === 0 ? ['--allow-root'] : []
  const proc = new Proc(
    'tsgi pool',
    join(ROOT, 'bin/tsgi.js'),
    ['fastcgi', app, '--listen', socket, ...root, ...args],
    {
      env: { ...CLEAN_ENV, ...env },
      cwd: dir,
    },
  )
  const logLine = async (pattern: RegExp, timeoutMs = 20_000, from = 0): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const match = pattern.exec(proc.output.slice(from))
      if (match !== null) return match
      if (Date.now() > deadline || proc.exitCode !== undefined) {
        throw new Error(`pool: no line like ${pattern} (exit ${proc.exitCode}):\n${proc.output.slice(-4000)}`)
      }
      await sleep(50)
    }
  }
  let started: RegExpExecArray
  try {
    started = await logLine(/manager on .* \(pid (\d+)/)
    await logLine(/worker\(s\) serving/)
  } catch (error) {
    await proc.stop()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const client = new FastcgiClient({ address: socket, maxConnections: 16 })
  const fresh = new FastcgiClient({ address: socket, maxConnections: 16, keepAlive: false })
  const ask =
    (via: FastcgiClient) =>
    async (path: string, extra: Record<string, string> = {}) => {
      const [script, query = ''] = path.split('?')
      const params = {
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: script!,
        PATH_INFO: '',
        QUERY_STRING: query,
        REQUEST_URI: path,
        SERVER_PROTOCOL: 'HTTP/1.1',
        ...extra,
      }
      const response = await via.request({ params })
      const body = await response.text()
      await response.end
      return { status: response.status, body }
    }
  const get = ask(client)
  const getFresh = ask(fresh)
  const stop = async () => {
    await client.close()
    await fresh.close()
    const code = await proc.stop(15_000)
    rmSync(dir, { recursive: true, force: true })
    return code
  }
  return { proc, dir, socket, client, managerPid: Number(started[1]), logLine, get, getFresh, stop }
}

export interface Load {
  ok: number
  failed: string[]
  /** Answers per worker pid (the apps below answer `pid N ...`). */
  pids: Map<number, number>
  bodies: string[]
}

/** GETs `path` with `concurrency` loops until `until()` says stop (bounded by maxMs); `fresh`: a connection each. */
export async function drive(
  pool: Pool,
  path: string,
  concurrency: number,
  until: () => boolean,
  { maxMs = 30_000, fresh = false } = {},
): Promise<Load> {
  const load: Load = { ok: 0, failed: [], pids: new Map(), bodies: [] }
  const deadline = Date.now() + maxMs
  const loop = async () => {
    while (!until() && Date.now() < deadline) {
      try {
        const { status, body } = await (fresh ? pool.getFresh(path) : pool.get(path))
        if (status !== 200) load.failed.push(`status ${status}: ${body.slice(0, 100)}`)
        else {
          load.ok++
          const pid = Number(/pid (\d+)/.exec(body)?.[1])
          load.pids.set(pid, (load.pids.get(pid) ?? 0) + 1)
          if (load.bodies.length < 10_000) load.bodies.push(body)
        }
      } catch (error) {
        load.failed.push((error as Error).message)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, loop))
  return load
}

/** Child pids of `pid` (the workers of a manager). */
export function childPids(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    return text.trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

const appDirs: string[] = []

/** A fresh directory with the pool tests' app in it (see writeApp); removeApps() deletes them all. */
export function tempApp(version: string, onLoad = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-pm-app-'))
  appDirs.push(dir)
  return writeApp(join(dir, 'app.mjs'), version, onLoad)
}

export function removeApps(): void {
  for (const dir of appDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/**
 * Writes the pool tests' app to `path`: `/hello` answers `pid N version V`; `/slow?ms=` waits, `/spin?ms=`
 * blocks its event loop, `/hang` never answers, `/big` sends 1 MiB, `/upload` counts the body's bytes.
 */
export function writeApp(path: string, version: string, onLoad = ''): string {
  writeFileSync(
    path,
    `${onLoad}
const retained = []
export default async function app(environ, startResponse) {
  const query = new URLSearchParams(environ.QUERY_STRING)
  const ms = Number(query.get('ms') ?? 0)
  const text = (body) => { startResponse('200 OK', [['Content-Type', 'text/plain']]); return [body] }
  // The path below /app when a web server mounts the app there (examples/nginx-pool.conf).
  switch ((environ.SCRIPT_NAME + environ.PATH_INFO).replace(/^[/]app(?=[/])/, '')) {
    case '/slow': await new Promise((resolve) => setTimeout(resolve, ms)); break
    case '/spin': { const end = Date.now() + ms; while (Date.now() < end) {} break }
    case '/hang': await new Promise(() => {}); break
    case '/grow': retained.push(Buffer.alloc(Number(query.get('mb')) * 1024 * 1024, 1)); break
    case '/big': startResponse('200 OK', [['Content-Type', 'application/octet-stream']]); return [new Uint8Array(1024 * 1024)]
    case '/upload': { let n = 0; for await (const chunk of environ['tsgi.input']) n += chunk.length; return text('pid ' + process.pid + ' got ' + n) }
  }
  return text('pid ' + process.pid + ' version ${version}\\n')
}
`,
  )
  return path
}
