// `npm run bench:fastcgi`: the FastCGI responder (node bin/tsgi.js fastcgi APP --listen ...) against a plain
// node:http hello, same closed-loop generator for both (own process), TCP and Unix, c=1/16; wrk and nginx
// rows; large bodies; RSS; bench/parser.ts. Rounds of shuffled groups (pairs back to back); medians, paired ratios.
// Knobs: ROUNDS (3), DURATION_MS (3000), WARMUP_MS (500). Helpers, generator and fixtures: bench/fastcgi/.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { othersBusy, rssMB, trackPeak } from '../src/bench/proc-stats.js'
import { haveCommand, killAll, run, stop } from '../src/bench/procs.js'
import { median, shuffle, systemLines } from '../src/bench/stats.js'
import type { RequestSpec } from '../src/bench/wire.js'
import './fastcgi/exit.js'
import { type Nginx, startNginx } from './fastcgi/front.js'
import { type Knobs, loopSample, wrkSample } from './fastcgi/measure.js'
import { PEERS, pairedRatio, type Sample, table, targets } from './fastcgi/report.js'
import {
  type Compiled,
  compile,
  generate,
  type Server,
  startHttp,
  startResponder,
  stopServer,
} from './fastcgi/servers.js'

const ROUNDS = Number(process.env.ROUNDS ?? 3)
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500)
const MiB = 1024 * 1024
const HELLO = 'Hello world!\n'

const fcgiHello: RequestSpec = { kind: 'fcgi', method: 'GET', uri: '/' }
const httpHello: RequestSpec = { kind: 'http', method: 'GET', uri: '/' }

interface Variant {
  name: string
  samples: Sample[]
  failures: string[]
  run: (round: number) => Promise<Sample>
}

async function main(): Promise<void> {
  const began = performance.now()
  console.log(systemLines())
  console.log(await noise())
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-fcgi-'))
  const servers: Server[] = []
  let nginx: Nginx | undefined
  try {
    const bin = await compile(dir)
    const knobs: Knobs = { loadgen: bin.loadgen, warmupMs: WARMUP_MS, durationMs: DURATION_MS }
    const add = async (server: Promise<Server>): Promise<Server> => {
      servers.push(await server)
      return server
    }
    const fTcp = await add(startResponder('fcgi tcp', bin.hello, '127.0.0.1:0'))
    const fUnix = await add(startResponder('fcgi unix', bin.hello, join(dir, 'hello.sock')))
    const hTcp = await add(startHttp('http tcp', bin.httpHello, '0'))
    const hUnix = await add(startHttp('http unix', bin.httpHello, join(dir, 'http.sock')))
    const bulk = await add(startResponder('fcgi bulk', bin.bulk, join(dir, 'bulk.sock')))
    const wrk = haveCommand('wrk')
    if (wrk && haveCommand('nginx')) {
      nginx = await startNginx(dir, join(dir, 'hello.sock'), join(dir, 'http.sock')).catch((err: unknown) => {
        console.log(`nginx rows skipped: ${err instanceof Error ? err.message : String(err)}`)
        return undefined
      })
    }
    console.log(
      `responder: node bin/tsgi.js fastcgi <app.mjs> --listen ... (pids ${fTcp.pid} tcp, ${fUnix.pid} unix, ${bulk.pid} bulk); node:http pids ${hTcp.pid}, ${hUnix.pid}`,
    )
    console.log(
      `generator: bench/fastcgi/loadgen.ts in its own node process, closed loop, pre-encoded requests; ${ROUNDS} rounds, ${DURATION_MS} ms windows after ${WARMUP_MS} ms warm-up`,
    )

    const v = (name: string, runOne: Variant['run']): Variant => ({ name, samples: [], failures: [], run: runOne })
    const hello = (server: Server, spec: RequestSpec, conns: number) => (round: number) =>
      loopSample(knobs, server, round, { spec, conns, expectBody: HELLO })
    const direct: Record<string, Variant> = {}
    for (const [transport, f, h] of [
      ['TCP ', fTcp, hTcp],
      ['Unix', fUnix, hUnix],
    ] as const) {
      for (const c of [1, 16]) {
        direct[`fcgi ${transport} ${c}`] = v(`tsgi FastCGI  ${transport} c=${c}`, hello(f, fcgiHello, c))
        direct[`http ${transport} ${c}`] = v(`node:http     ${transport} c=${c}`, hello(h, httpHello, c))
      }
    }
    const seconds = Math.max(1, Math.round(DURATION_MS / 1000))
    const wrkRows = wrk
      ? [1, 16].map((c) =>
          v(`node:http TCP c=${c} (wrk)`, (r) => wrkSample(`http://127.0.0.1:${port(hTcp)}/`, c, seconds, hTcp, r)),
        )
      : []
    const ngx = nginx
    const nginxRows = ngx
      ? [
          v('nginx -> tsgi FastCGI (Unix, keep_conn) c=16', (r) =>
            wrkSample(`http://127.0.0.1:${ngx.port}/fcgi/`, 16, seconds, fUnix, r, ngx.workerPid),
          ),
          v('nginx -> node:http (Unix, keepalive) c=16', (r) =>
            wrkSample(`http://127.0.0.1:${ngx.port}/http/`, 16, seconds, hUnix, r, ngx.workerPid),
          ),
        ]
      : []
    const post: RequestSpec = { kind: 'fcgi', method: 'POST', uri: '/sink', bodyBytes: 10 * MiB }
    const bodyRows = [
      v('10 MiB POST, Unix c=1', (r) =>
        loopSample(knobs, bulk, r, { spec: post, conns: 1, expectBody: `length: ${10 * MiB}`, bodyBytes: 'request' }),
      ),
      v('10 MiB POST, Unix c=1, no KEEP_CONN', (r) =>
        loopSample(knobs, bulk, r, {
          spec: { ...post, keepConn: false },
          conns: 1,
          expectBody: `length: ${10 * MiB}`,
          bodyBytes: 'request',
        }),
      ),
      v('1 MiB GET, Unix c=16', (r) =>
        loopSample(knobs, bulk, r, {
          spec: { kind: 'fcgi', method: 'GET', uri: '/blob' },
          conns: 16,
          bodyBytes: 'response',
        }),
      ),
    ]
    const fresh = async (starting: Promise<Server>, spec: RequestSpec, round: number): Promise<Sample> => {
      const server = await starting
      try {
        return await loopSample(knobs, server, round, {
          spec,
          conns: 64,
          expectBody: HELLO,
          durationMs: Math.min(DURATION_MS, 2000),
        })
      } finally {
        await stopServer(server)
      }
    }

    const rssRows = [
      v('tsgi FastCGI Unix c=64 (fresh process)', (r) =>
        fresh(startResponder('rss fcgi', bin.hello, join(dir, 'rss.sock')), fcgiHello, r),
      ),
      v('node:http    Unix c=64 (fresh process)', (r) =>
        fresh(startHttp('rss http', bin.httpHello, join(dir, 'rss-http.sock')), httpHello, r),
      ),
    ]
    // Groups run back to back (in random order inside): a ratio compares samples seconds apart, so
    // load from other processes on this shared box hits both sides of a pair alike. Groups are shuffled.
    const pair = (t: string, c: number): Variant[] => [direct[`fcgi ${t} ${c}`]!, direct[`http ${t} ${c}`]!]
    const groups = [
      pair('TCP ', 1),
      pair('TCP ', 16),
      pair('Unix', 1),
      pair('Unix', 16),
      wrkRows,
      nginxRows,
      bodyRows,
      rssRows,
    ]
    const all = groups.flat()
    for (let round = 1; round <= ROUNDS; round++) {
      const t = performance.now()
      for (const group of shuffle(groups)) {
        for (const variant of shuffle(group)) {
          // One failed measurement is reported, not fatal: the other rows still mean something.
          try {
            variant.samples.push(await variant.run(round))
          } catch (err) {
            variant.failures.push(`round ${round}: ${err instanceof Error ? err.message : String(err)}`)
          }
        }
      }
      console.log(`round ${round}/${ROUNDS} done in ${((performance.now() - t) / 1000).toFixed(0)} s`)
    }
    const gib = await gibibyte(bin, dir)
    const parser = await run(process.execPath, [bin.parser], 60_000, { ROUNDS: '3', ROUND_MS: '200' })
    const endRss = { fTcp: rssMB(fTcp.pid), fUnix: rssMB(fUnix.pid), hTcp: rssMB(hTcp.pid), hUnix: rssMB(hUnix.pid) }

    // --- report ---
    console.log()
    console.log(
      table(
        'hello world, direct (kept connections, own closed-loop generator for both protocols)',
        Object.values(direct),
      ),
    )
    const ratio = (t: string, c: number): number =>
      pairedRatio(direct[`fcgi ${t} ${c}`]!.samples, direct[`http ${t} ${c}`]!.samples)
    console.log(
      `  tsgi / node:http req/s, paired per round: TCP c=1 ${ratio('TCP ', 1).toFixed(2)}x, TCP c=16 ${ratio('TCP ', 16).toFixed(2)}x, Unix c=1 ${ratio('Unix', 1).toFixed(2)}x, Unix c=16 ${ratio('Unix', 16).toFixed(2)}x`,
    )
    console.log(
      `  RSS after all hello load: tsgi ${endRss.fTcp.toFixed(1)} MB (TCP) / ${endRss.fUnix.toFixed(1)} MB (Unix); node:http ${endRss.hTcp.toFixed(1)} / ${endRss.hUnix.toFixed(1)} MB`,
    )
    if (wrkRows.length > 0) console.log(`\n${table('HTTP reference through wrk -t1 (direct)', wrkRows)}`)
    if (nginxRows.length > 0) {
      console.log(`\n${table('through nginx 1.x, one worker, wrk -t1 c=16 (front = nginx worker CPU)', nginxRows)}`)
      console.log(
        `  tsgi / node:http behind nginx, paired per round: ${pairedRatio(nginxRows[0]!.samples, nginxRows[1]!.samples).toFixed(2)}x`,
      )
    } else console.log('\n(nginx or wrk not installed: no nginx rows)')
    console.log(`\n${table('large bodies through the responder (bulk app, own generator)', bodyRows)}`)
    console.log(`\n${table('peak RSS at 64 kept connections, hello, each sample a fresh process', rssRows)}`)
    console.log(`\n1 GiB streamed through one fresh responder (Unix): idle ${gib.idleMB.toFixed(1)} MB`)
    console.log(
      `  upload   (app reads and drops): ${(gib.up.seconds).toFixed(2)} s, ${(1024 / gib.up.seconds).toFixed(0)} MiB/s, peak ${gib.up.peakMB.toFixed(1)} MB, growth ${gib.up.growthMB.toFixed(1)} MB`,
    )
    console.log(
      `  floor: a bare node:net server reading and dropping the same 1 GiB grows ${gib.floorMB.toFixed(1)} MB (64 KiB read Buffers live until GC)`,
    )
    console.log(
      `  download (app streams 64 KiB): ${(gib.down.seconds).toFixed(2)} s, ${(1024 / gib.down.seconds).toFixed(0)} MiB/s, peak ${gib.down.peakMB.toFixed(1)} MB, growth ${gib.down.growthMB.toFixed(1)} MB`,
    )
    console.log(
      `\nparser alone (bench/parser.ts, ROUNDS=3 ROUND_MS=200, own process):\n${parser.trimEnd().replace(/^/gm, '  ')}`,
    )
    const failed = all.filter((variant) => variant.failures.length > 0)
    for (const variant of failed)
      console.log(`\nFAILED measurements of "${variant.name}":\n  ${variant.failures.join('\n  ').slice(0, 2000)}`)
    console.log(`\n${PEERS}\n`)
    const du = direct['fcgi Unix 16']!.samples
    const med = (rows: Sample[], pick: (s: Sample) => number | undefined): number =>
      median(rows.map((s) => pick(s) ?? NaN))
    console.log(
      targets([
        {
          what: 'hello Unix c=16 keep-alive: tsgi / node:http req/s',
          value: ratio('Unix', 16),
          unit: 'x',
          op: '>=',
          limit: 0.9,
        },
        {
          what: 'responder CPU per request (hello Unix c=16)',
          value: med(du, (s) => s.serverUs),
          unit: 'µs',
          op: '<=',
          limit: 25,
        },
        {
          what: '10 MiB POST streamed through, c=1, kept connection',
          value: med(bodyRows[0]!.samples, (s) => s.rps),
          unit: 'req/s',
          op: '>=',
          limit: 200,
        },
        {
          what: '1 MiB responses, c=16',
          value: med(bodyRows[2]!.samples, (s) => s.rps),
          unit: 'req/s',
          op: '>=',
          limit: 3000,
        },
        {
          what: 'peak RSS at 64 connections',
          value: med(rssRows[0]!.samples, (s) => s.peakMB),
          unit: 'MB',
          op: '<=',
          limit: 80,
        },
        { what: '1 GiB upload: RSS growth over idle', value: gib.up.growthMB, unit: 'MB', op: '<=', limit: 32 },
        { what: '1 GiB download: RSS growth over idle', value: gib.down.growthMB, unit: 'MB', op: '<=', limit: 32 },
      ]),
    )
    console.log(await noise())
    console.log(
      `${systemLines().split('\n')[1]} (at the end); total ${((performance.now() - began) / 1000).toFixed(0)} s`,
    )
  } finally {
    if (nginx) await stop(nginx.proc)
    await Promise.all(servers.map(stopServer))
    killAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Other processes' CPU over one second: the figures below are only as quiet as this. */
async function noise(): Promise<string> {
  const { share, top } = await othersBusy(1000, new Set([process.pid, process.ppid]))
  return `other processes over 1 s: ${Math.round(share * 100)}% of one core (busiest: ${top})`
}

function port(server: Server): number {
  return 'port' in server.target ? server.target.port : NaN
}

interface Transfer {
  seconds: number
  peakMB: number
  growthMB: number
}

/** 1 GiB up then 1 GiB down through a fresh bulk responder; RSS growth is peak minus idle after warm-up. */
async function gibibyte(
  bin: Compiled,
  dir: string,
): Promise<{ idleMB: number; up: Transfer; down: Transfer; floorMB: number }> {
  const server = await startResponder('fcgi 1 GiB', bin.bulk, join(dir, 'gib.sock'))
  try {
    // Idle = the process at rest after one small request down each path (code loaded), not after load.
    const once = (spec: RequestSpec, expectBody?: string) =>
      generate(bin.loadgen, {
        mode: 'bulk',
        spec,
        target: server.target,
        conns: 1,
        warmupMs: 0,
        durationMs: 0,
        pids: [],
        repeat: 16,
        expectStatus: '200',
        ...(expectBody !== undefined ? { expectBody } : {}),
      })
    await once({ kind: 'fcgi', method: 'POST', uri: '/sink', bodyBytes: MiB }, `length: ${MiB}`)
    await once({ kind: 'fcgi', method: 'GET', uri: `/stream?bytes=${MiB}` })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const idleMB = rssMB(server.pid)
    const transfer = async (spec: RequestSpec, expectBody?: string): Promise<Transfer> => {
      const idle = rssMB(server.pid)
      const peak = trackPeak(server.pid)
      const r = await generate(bin.loadgen, {
        mode: 'bulk',
        spec,
        target: server.target,
        conns: 1,
        warmupMs: 0,
        durationMs: 0,
        pids: [server.pid],
        repeat: 1024,
        expectStatus: '200',
        ...(expectBody !== undefined ? { expectBody } : {}),
      })
      const peakMB = peak()
      return { seconds: r.seconds, peakMB, growthMB: peakMB - idle }
    }
    const up = await transfer(
      { kind: 'fcgi', method: 'POST', uri: '/sink', bodyBytes: 1024 * MiB },
      `length: ${1024 * MiB}`,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    const down = await transfer({ kind: 'fcgi', method: 'GET', uri: `/stream?bytes=${1024 * MiB}` })
    return { idleMB, up, down, floorMB: await uploadFloor(bin, dir) }
  } finally {
    await stopServer(server)
  }
}

/** RSS growth of a bare node:net server reading and dropping the same 1 GiB: what Node itself costs. */
async function uploadFloor(bin: Compiled, dir: string): Promise<number> {
  const sink = await startHttp('net sink', bin.netSink, join(dir, 'sink.sock'), [String(1024 * MiB)])
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const idle = rssMB(sink.pid)
    const peak = trackPeak(sink.pid)
    await generate(bin.loadgen, {
      mode: 'bulk',
      spec: { kind: 'http', method: 'POST', uri: '/', bodyBytes: 1024 * MiB },
      target: sink.target,
      conns: 1,
      warmupMs: 0,
      durationMs: 0,
      pids: [],
      repeat: 1024,
      expectStatus: '200',
    })
    return peak() - idle
  } finally {
    await stopServer(sink)
  }
}

await main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
  process.exitCode = 1
})
