// `npm run bench:bridges`: Hono and Express hellos through the FastCGI responder (fromFetch, fromNode, and
// light-my-request as fromNode's alternative) against the same apps on their own servers (@hono/node-server,
// node:http), plus the native TSGI hello for each bridge's CPU cost. Unix sockets, 16 kept connections,
// one generator in its own process; rounds of shuffled variants, paired ratios, medians.
// Knobs: ROUNDS (5), DURATION_MS (3000), WARMUP_MS (500).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll } from '../src/bench/procs.js'
import { median, shuffle, systemLines } from '../src/bench/stats.js'
import type { RequestSpec } from '../src/bench/wire.js'
import { compile } from './bridges/compile.js'
import './fastcgi/exit.js'
import { type Knobs, loopSample } from './fastcgi/measure.js'
import { pairedRatio, type Sample, table } from './fastcgi/report.js'
import { type Server, startHttp, startResponder, stopServer } from './fastcgi/servers.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000)
const WARMUP_MS = Number(process.env.WARMUP_MS ?? 500)
const HELLO = 'Hello world!\n'

interface Variant {
  name: string
  server: Server
  spec: RequestSpec
  samples: Sample[]
}

async function main(): Promise<void> {
  console.log(systemLines())
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-bridges-'))
  const servers: Server[] = []
  try {
    const at = await compile(dir)
    const knobs: Knobs = { loadgen: at('loadgen'), warmupMs: WARMUP_MS, durationMs: DURATION_MS }
    const fcgi: RequestSpec = { kind: 'fcgi', method: 'GET', uri: '/' }
    const http: RequestSpec = { kind: 'http', method: 'GET', uri: '/' }
    const add = async (name: string, starting: Promise<Server>, spec: RequestSpec): Promise<Variant> => {
      const server = await starting
      servers.push(server)
      return { name, server, spec, samples: [] }
    }
    const sock = (name: string): string => join(dir, `${name}.sock`)
    const variants = [
      await add('tsgi FastCGI, Hono (fromFetch)', startResponder('hono', at('hono-hello'), sock('hono')), fcgi),
      await add('@hono/node-server, Hono', startHttp('hono http', at('hono-node-server'), sock('hono-http')), http),
      await add('tsgi FastCGI, Express (fromNode)', startResponder('express', at('express-hello'), sock('ex')), fcgi),
      await add(
        'tsgi FastCGI, Express (light-my-request)',
        startResponder('inject', at('express-inject'), sock('lmr')),
        fcgi,
      ),
      await add('node:http, Express', startHttp('express http', at('express-node-server'), sock('ex-http')), http),
      await add('tsgi FastCGI, TSGI hello (no bridge)', startResponder('tsgi', at('tsgi-hello'), sock('tsgi')), fcgi),
      await add('node:http hello (no framework)', startHttp('http', at('http-hello'), sock('http')), http),
    ]
    for (let round = 1; round <= ROUNDS; round++) {
      for (const variant of shuffle(variants)) {
        variant.samples.push(
          await loopSample(knobs, variant.server, round, { spec: variant.spec, conns: 16, expectBody: HELLO }),
        )
      }
      console.log(`round ${round}/${ROUNDS} done`)
    }
    report(variants)
  } finally {
    for (const server of servers) await stopServer(server)
    killAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

function report(v: Variant[]): void {
  const [hono, honoNode, express, inject, expressHttp, tsgi] = v as [
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
    Variant,
  ]
  console.log(`\n${table('hello world, Unix socket, 16 kept connections (own closed-loop generator)', v)}`)
  const ratio = (a: Variant, b: Variant): string => `${pairedRatio(a.samples, b.samples).toFixed(2)}x`
  const cpu = (a: Variant): number => median(a.samples.map((s) => s.serverUs))
  const over = (a: Variant): string => `${(cpu(a) - cpu(tsgi)).toFixed(1)} µs`
  console.log(
    `  Hono through tsgi FastCGI / Hono on @hono/node-server (req/s, paired): ${ratio(hono, honoNode)} (target >= 1.0)`,
  )
  console.log(
    `  Express through tsgi FastCGI / Express on node:http (req/s, paired): ${ratio(express, expressHttp)} (target >= 1.0)`,
  )
  console.log(`  Express, light-my-request / fromNode (req/s, paired): ${ratio(inject, express)}`)
  console.log(
    `  CPU per request over the native TSGI hello (framework + bridge): Hono ${over(hono)}, Express ${over(express)}, ` +
      `Express through light-my-request ${over(inject)}`,
  )
}

await main()
