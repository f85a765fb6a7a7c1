// `npm run bench:flags`: the responder's V8 flags weighed on real apps. The TSGI hello, Hono (fromFetch)
// and Express (fromNode), each under bin/tsgi.js's own flags and under the alternatives; Unix sockets,
// 16 kept connections, shuffled rounds, ratios paired against the shipped flags. Knobs: ROUNDS (5),
// DURATION_MS (3000), APPS (tsgi-hello,hono-hello,express-hello).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { killAll } from '../src/bench/procs.js'
import { shuffle, systemLines } from '../src/bench/stats.js'
import { compile, type ENTRIES } from './bridges/compile.js'
import './fastcgi/exit.js'
import { type Knobs, loopSample } from './fastcgi/measure.js'
import { pairedRatio, type Sample, table } from './fastcgi/report.js'
import { RESPONDER_FLAGS, type Server, startResponder, stopServer } from './fastcgi/servers.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const DURATION_MS = Number(process.env.DURATION_MS ?? 3000)
const APPS = (process.env.APPS ?? 'tsgi-hello,hono-hello,express-hello').split(',') as Array<keyof typeof ENTRIES>
const FLAG_SETS: Record<string, string[]> = {
  shipped: RESPONDER_FLAGS,
  none: [],
  'semi-space 2 + single-threaded GC': ['--max-semi-space-size=2', '--single-threaded-gc'],
  'single-threaded GC': ['--single-threaded-gc'],
}

interface Variant {
  app: string
  set: string
  name: string
  server: Server
  samples: Sample[]
}

async function main(): Promise<void> {
  console.log(systemLines())
  console.log(`shipped flags: ${RESPONDER_FLAGS.join(' ') || '(none)'}`)
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-flags-'))
  const variants: Variant[] = []
  try {
    const at = await compile(dir)
    for (const app of APPS) {
      for (const [set, flags] of Object.entries(FLAG_SETS)) {
        const server = await startResponder(`${app} ${set}`, at(app), join(dir, `${variants.length}.sock`), flags)
        variants.push({ app, set, name: `${app}, ${set}`, server, samples: [] })
      }
    }
    const knobs: Knobs = { loadgen: at('loadgen'), warmupMs: 500, durationMs: DURATION_MS }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const v of shuffle(variants)) {
        const spec = { kind: 'fcgi', method: 'GET', uri: '/' } as const
        v.samples.push(await loopSample(knobs, v.server, round, { spec, conns: 16, expectBody: 'Hello world!\n' }))
      }
      console.log(`round ${round}/${ROUNDS} done`)
    }
    console.log(`\n${table('hello world per app and V8 flags, Unix socket, 16 kept connections', variants)}`)
    for (const v of variants.filter((v) => v.set !== 'shipped')) {
      const shipped = variants.find((s) => s.app === v.app && s.set === 'shipped')!
      console.log(`  ${v.name} / shipped (req/s, paired): ${pairedRatio(v.samples, shipped.samples).toFixed(2)}x`)
    }
  } finally {
    for (const v of variants) await stopServer(v.server)
    killAll()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
