// `npm run bench:pool`: what the process manager costs and gives. One interleaved run of the lone
// responder, a pool of one worker and a pool of two (`--workers N`), hello world on a Unix socket, kept
// connections and one connection per request; paired ratios per round, medians; the manager's memory.
// Knobs: ROUNDS (5), DURATION_MS (3000), WARMUP_MS (500), CONNS (16).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { rssMB } from '../src/bench/proc-stats.js'
import { killAll } from '../src/bench/procs.js'
import { median, shuffle, systemLines } from '../src/bench/stats.js'
import type { RequestSpec } from '../src/bench/wire.js'
import './fastcgi/exit.js'
import { type Knobs, loopSample } from './fastcgi/measure.js'
import { pairedRatio, type Sample, table, targets } from './fastcgi/report.js'
import { compile, type Server, startPool, startResponder, stopServer } from './fastcgi/servers.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500)
const CONNS = Number(process.env.CONNS ?? 16)
const HELLO = 'Hello world!\n'

interface Row {
  name: string
  samples: Sample[]
  server: Server
  spec: RequestSpec
  conns: number
}

async function main(): Promise<void> {
  console.log(systemLines())
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-pool-'))
  const servers: Server[] = []
  try {
    const bin = await compile(dir)
    const knobs: Knobs = { loadgen: bin.loadgen, warmupMs: WARMUP_MS, durationMs: DURATION_MS }
    const lone = await startResponder('lone', bin.hello, join(dir, 'lone.sock'))
    const one = await startPool('pool of 1', bin.hello, join(dir, 'one.sock'), 1)
    const two = await startPool('pool of 2', bin.hello, join(dir, 'two.sock'), 2)
    servers.push(lone, one, two)
    console.log(
      `lone responder pid ${lone.pid}; pools (manager, workers): ${one.pids!.join(', ')} | ${two.pids!.join(', ')}`,
    )
    const kept: RequestSpec = { kind: 'fcgi', method: 'GET', uri: '/' }
    const fresh: RequestSpec = { ...kept, keepConn: false }
    const row = (server: Server, spec: RequestSpec, how: string, conns = CONNS): Row => ({
      name: `${server.name.padEnd(10)} ${how} c=${conns}`,
      samples: [],
      server,
      spec,
      conns,
    })
    const rows = (spec: RequestSpec, how: string): Row[] => [lone, one, two].map((server) => row(server, spec, how))
    // The lone responder at half the connections: what one of two workers sees (fewer requests per turn).
    const groups = [
      [...rows(kept, 'kept conns'), row(lone, kept, 'kept conns', CONNS / 2)],
      rows(fresh, 'conn/request'),
    ]
    for (let round = 1; round <= ROUNDS; round++) {
      for (const group of shuffle(groups)) {
        for (const row of shuffle(group)) {
          row.samples.push(
            await loopSample(knobs, row.server, round, { spec: row.spec, conns: row.conns, expectBody: HELLO }),
          )
        }
      }
      console.log(`round ${round}/${ROUNDS} done`)
    }
    console.log()
    for (const [i, title] of [
      'kept connections (FCGI_KEEP_CONN, as nginx with keepalive)',
      'a connection per request (nginx default)',
    ].entries()) {
      const [l, o, t, half] = groups[i]!
      console.log(table(`hello, Unix socket, ${title}; srv CPU = manager + workers`, groups[i]!))
      const cpu = (a: Row, b: Row) => pairedRatio(a.samples, b.samples, (s) => s.serverUs).toFixed(2)
      const rps = (a: Row, b: Row) => pairedRatio(a.samples, b.samples).toFixed(2)
      console.log(
        `  paired: CPU/request pool of 2 / lone ${cpu(t!, l!)}x, pool of 1 / lone ${cpu(o!, l!)}x; req/s pool of 2 / pool of 1 ${rps(t!, o!)}x, pool of 2 / lone ${rps(t!, l!)}x`,
      )
      if (half !== undefined) {
        console.log(
          `  CPU/request lone at c=${CONNS / 2} / lone at c=${CONNS}: ${cpu(half, l!)}x (each of two workers sees half)`,
        )
      }
      console.log()
    }
    const manager = two.pid
    const memory = smaps(manager)
    console.log(
      `manager (pid ${manager}) after the run: RSS ${memory.rss.toFixed(1)} MiB, of which anonymous ${memory.anon.toFixed(1)} MiB; PSS ${memory.pss.toFixed(1)} MiB (pages of the node binary shared with its workers count in RSS, split in PSS)`,
    )
    console.log(
      `workers: ${two
        .pids!.slice(1)
        .map((pid) => `${rssMB(pid).toFixed(1)} MB`)
        .join(', ')}; lone responder ${rssMB(lone.pid).toFixed(1)} MB (VmRSS)`,
    )
    const kept2 = groups[0]!
    console.log(
      targets([
        {
          what: 'CPU per request, --workers 2 / lone responder (kept conns)',
          value: pairedRatio(kept2[2]!.samples, kept2[0]!.samples, (s) => s.serverUs),
          unit: 'x',
          op: '<=',
          limit: 1.1,
        },
        { what: 'manager RSS', value: memory.rss * 1.048576, unit: 'MB', op: '<=', limit: 40 },
      ]),
    )
    console.log(
      `median genCore ${median(kept2[2]!.samples.map((s) => s.genCore)).toFixed(2)} (the generator's share of one core)`,
    )
  } finally {
    await Promise.all(servers.map(stopServer))
    killAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** VmRSS, Pss and Anonymous of a process, MiB (smaps_rollup). */
function smaps(pid: number): { rss: number; pss: number; anon: number } {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8')
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024
  return { rss: kb('Rss'), pss: kb('Pss'), anon: kb('Anonymous') }
}

await main()
