// `npm run soak -- [--duration SECONDS] [--workers N] [--max-requests N]`: a pool under mixed load
// (greetings, 1 MiB up and down, aborted requests, slow uploads and slow readers) for a while. It fails
// (exit 1) when a request is lost or answered wrong, a worker dies, or the pool's open descriptors or RSS
// do not come back to where they were once the load stops. CI runs it for 60 s (test/pm/soak.test.ts).
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { FastcgiClient } from '../src/hosts/fastcgi/client.js'
import { MIB, PATTERN } from './soak-app.mjs'

const ROOT = join(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    workers: { type: 'string', default: '2' },
    'max-requests': { type: 'string' },
  },
})
const seconds = Number(values.duration)
const CONCURRENCY = 8
const UPLOAD = randomBytes(MIB)
const UPLOAD_HASH = createHash('sha256').update(UPLOAD).digest('hex')
const PATTERN_HASH = createHash('sha256').update(PATTERN).digest('hex')

interface Usage {
  rss: number
  fds: number
}

const dir = mkdtempSync(join(tmpdir(), 'tsgi-soak-'))
const socket = join(dir, 'soak.sock')
const args = ['fastcgi', join(ROOT, 'scripts/soak-app.mjs'), '--listen', socket, '--workers', values.workers!]
if (values['max-requests'] !== undefined) args.push('--max-requests', values['max-requests'])
if (process.getuid?.() === 0) args.push('--allow-root')
const pool = spawn(join(ROOT, 'bin/tsgi.js'), args, { stdio: ['ignore', 'inherit', 'pipe'] })
let log = ''
pool.stderr.on('data', (chunk: Buffer) => {
  log += chunk.toString()
  process.stderr.write(chunk)
})
// A new client per phase: each phase ends by closing its connections, so that the descriptors counted after
// it are the pool's own, not the kept connections, which move between workers and vary in number.
const newClient = (): FastcgiClient => new FastcgiClient({ address: socket, maxConnections: 16 })
let client = newClient()
const counts: Record<string, number> = {}
const lost: string[] = []

try {
  const managerPid = await started()
  await runLoad(2000) // warm-up: V8 and the connection pools reach their working size
  await client.close()
  await sleep(1500)
  const before = usage(managerPid)
  client = newClient()
  const workersBefore = workerPids(managerPid)
  const t0 = Date.now()
  const peak = new Map<number, number>()
  const sampler = setInterval(() => {
    for (const [pid, u] of usage(managerPid)) peak.set(pid, Math.max(peak.get(pid) ?? 0, u.rss))
  }, 1000)
  await runLoad(seconds * 1000)
  clearInterval(sampler)
  await client.close()
  await sleep(1500)
  const after = usage(managerPid)
  const verdict = judge(before, after, workersBefore, workerPids(managerPid))
  report(before, after, peak, (Date.now() - t0) / 1000, verdict)
  process.exitCode = verdict.length === 0 ? 0 : 1
} finally {
  await client.close()
  pool.kill('SIGTERM')
  await new Promise((resolve) => pool.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
}

async function started(): Promise<number> {
  const deadline = Date.now() + 30_000
  while (!/worker\(s\) serving/.test(log)) {
    if (Date.now() > deadline || pool.exitCode !== null) throw new Error('soak: the pool did not start')
    await sleep(50)
  }
  return Number(/manager on .* \(pid (\d+)/.exec(log)![1])
}

/** CONCURRENCY loops, each picking a kind of request by weight, until `ms` have passed. */
async function runLoad(ms: number): Promise<void> {
  const end = Date.now() + ms
  const kinds: Array<[string, number, () => Promise<void>]> = [
    ['hello', 40, hello],
    ['upload', 10, () => upload(false)],
    ['slow upload', 5, () => upload(true)],
    ['download', 10, () => download(0)],
    ['slow reader', 10, () => download(1)],
    ['aborted', 15, aborted],
    ['aborted download', 10, abortedDownload],
  ]
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0)
  const pick = () => {
    let r = Math.random() * total
    for (const kind of kinds) {
      r -= kind[1]
      if (r < 0) return kind
    }
    return kinds[0]!
  }
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const [name, , run] = pick()
        try {
          await run()
          counts[name] = (counts[name] ?? 0) + 1
        } catch (error) {
          lost.push(`${name}: ${(error as Error).message}`)
        }
      }
    }),
  )
}

function params(path: string, method = 'GET', length?: number): Record<string, string> {
  return {
    REQUEST_METHOD: method,
    SCRIPT_NAME: path,
    QUERY_STRING: path === '/slow' ? 'ms=300' : '',
    ...(length === undefined ? {} : { CONTENT_LENGTH: String(length), CONTENT_TYPE: 'application/octet-stream' }),
  }
}

async function hello(): Promise<void> {
  const response = await client.request({ params: params('/hello') })
  expectText(await response.text(), /^pid \d+$/)
}

async function upload(slowly: boolean): Promise<void> {
  const body = slowly
    ? (async function* () {
        for (let at = 0; at < MIB; at += 16384) {
          await sleep(1)
          yield UPLOAD.subarray(at, at + 16384)
        }
      })()
    : [UPLOAD]
  const response = await client.request({ params: params('/upload', 'POST', MIB), body })
  expectText(await response.text(), new RegExp(`^got ${MIB} sha256 ${UPLOAD_HASH}$`))
}

async function download(pauseMs: number): Promise<void> {
  const response = await client.request({ params: params('/big') })
  const hash = createHash('sha256')
  for await (const chunk of response.body) {
    hash.update(chunk)
    if (pauseMs > 0) await sleep(pauseMs)
  }
  if (hash.digest('hex') !== PATTERN_HASH) throw new Error('the download arrived damaged')
}

/** A client that gives up before the answer (ABORT_REQUEST): the app hears it through tsgi.signal. */
async function aborted(): Promise<void> {
  const signal = AbortSignal.timeout(20 + Math.floor(Math.random() * 80))
  try {
    const response = await client.request({ params: params('/slow'), signal })
    await response.text()
  } catch (error) {
    if (!signal.aborted) throw error
  }
}

/** A client that leaves in the middle of a 1 MiB download. */
async function abortedDownload(): Promise<void> {
  const controller = new AbortController()
  try {
    const response = await client.request({ params: params('/big'), signal: controller.signal })
    for await (const _ of response.body) controller.abort()
  } catch (error) {
    if (!controller.signal.aborted) throw error
  }
}

function expectText(text: string, pattern: RegExp): void {
  if (!pattern.test(text)) throw new Error(`unexpected answer ${JSON.stringify(text.slice(0, 80))}`)
}

function workerPids(manager: number): number[] {
  try {
    return readFileSync(`/proc/${manager}/task/${manager}/children`, 'utf8').trim().split(/\s+/).map(Number)
  } catch {
    return []
  }
}

/** RSS and open descriptors of the manager and each worker, from /proc. */
function usage(manager: number): Map<number, Usage> {
  const out = new Map<number, Usage>()
  for (const pid of [manager, ...workerPids(manager)]) {
    try {
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024
      out.set(pid, { rss, fds: readdirSync(`/proc/${pid}/fd`).length })
    } catch {
      // gone between the two reads
    }
  }
  return out
}

/** What failed: lost requests, dead workers, descriptors not given back, RSS that kept growing. */
function judge(before: Map<number, Usage>, after: Map<number, Usage>, was: number[], now: number[]): string[] {
  const verdict: string[] = []
  if (lost.length > 0) verdict.push(`${lost.length} request(s) lost, first: ${lost.slice(0, 3).join('; ')}`)
  if (values['max-requests'] === undefined && now.sort().join() !== was.sort().join()) {
    verdict.push(`workers changed from ${was.join(',')} to ${now.join(',')}: one died`)
  }
  for (const [pid, start] of before) {
    const end = after.get(pid)
    if (end === undefined) continue
    if (end.fds > start.fds + 2) verdict.push(`pid ${pid}: ${start.fds} open descriptors before, ${end.fds} after`)
    // Room for V8's heaps settling (and GC running late on a busy machine); a leak of even a few hundred
    // bytes per request goes past it within a minute of this load.
    const allowed = Math.max(start.rss * 1.4, start.rss + 32 * MIB)
    if (end.rss > allowed) verdict.push(`pid ${pid}: RSS grew from ${mib(start.rss)} to ${mib(end.rss)}`)
  }
  return verdict
}

function report(
  before: Map<number, Usage>,
  after: Map<number, Usage>,
  peak: Map<number, number>,
  took: number,
  verdict: string[],
): void {
  const done = Object.values(counts).reduce((a, b) => a + b, 0)
  console.log(`\nsoak: ${took.toFixed(0)} s, ${CONCURRENCY} clients, ${done} requests, ${lost.length} lost`)
  console.log(
    `  ${Object.entries(counts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  )
  console.log('  pid       RSS before  peak      after     fds before  after')
  for (const [pid, start] of before) {
    const end = after.get(pid)
    const row = [
      String(pid).padEnd(9),
      mib(start.rss).padEnd(11),
      mib(peak.get(pid) ?? 0).padEnd(9),
      mib(end?.rss ?? 0).padEnd(9),
    ]
    console.log(`  ${row.join(' ')} ${String(start.fds).padEnd(11)} ${end?.fds ?? '-'}`)
  }
  console.log(verdict.length === 0 ? 'soak: passed' : `soak: FAILED\n  ${verdict.join('\n  ')}`)
}

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
