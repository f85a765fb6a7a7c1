// `tsgi bench`: sets the rows up (each mode on each runtime), probes and warms each one, measures peak RSS
// outside the timed windows, then runs rounds over the rows in a new order each time, one window at c=1 and
// one at c=N per row.
import { readlinkSync } from 'node:fs'
import { type Generator, startGenerator } from './generator.js'
import { inProcessWindow } from './inprocess.js'
import type { Live } from './live.js'
import type { GenConfig, GenResult } from './loadgen.js'
import { rowSpecs } from './modes.js'
import { probe } from './probe.js'
import { summarize } from './results.js'
import { cgiVars, scriptPeakMB } from './rss.js'
import { runtimeOfBinary } from './runtimes.js'
import { peakSince, type Setup, setUp } from './setup.js'
import { shuffle, systemInfo } from './stats.js'
import type { BenchOptions, BenchResult, Measured } from './types.js'

const SAMPLE_POINTS = 200
/** A request unanswered this long is stuck: tsx on a loaded machine takes seconds. */
const STALL_MS = 20_000

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const began = performance.now()
  const specs = rowSpecs(
    options.modes,
    options.runtimes.map((r) => r.name),
  )
  const setup = await setUp(specs, options.app, options.runtimes)
  const generator = startGenerator()
  try {
    const measured = await measure(options, setup, generator)
    return summarize(options, measured, systemInfo(), (performance.now() - began) / 1000)
  } finally {
    generator.close()
    await setup.close()
  }
}

async function measure(options: BenchOptions, setup: Setup, generator: Generator): Promise<Measured[]> {
  const runnable = setup.live.filter((l) => l.skip === undefined)
  const progress = counter(options, runnable.length * (2 + 2 * options.rounds))
  const results = new Map<Live, Measured>()
  for (const l of runnable) {
    const m = await prepareRow(options, l, setup, generator, progress)
    if (m !== undefined) results.set(l, m)
  }
  const peaks = [...results.values()].filter((m) => m.live.worker !== undefined)
  const readPeaks = peaks.map((m) => peakSince(m.live.worker!))
  for (let round = 1; round <= options.rounds; round++) {
    for (const m of shuffle([...results.values()])) {
      for (const conns of [1, options.concurrency]) {
        progress.step(`round ${round}/${options.rounds}: ${m.live.name} c=${conns}`)
        record(m, conns === 1, await window(options, m.live, generator, conns))
      }
    }
  }
  peaks.forEach((m, i) => {
    m.peakMB = readPeaks[i]!()
  })
  progress.finish()
  return setup.live.map((l) => results.get(l) ?? emptyMeasure(l))
}

interface Counter {
  step(what: string): void
  skip(steps: number): void
  finish(): void
}

/** Steps reported to onProgress; a stop request ends the run at the next step. */
function counter(options: BenchOptions, total: number): Counter {
  let done = 0
  return {
    step(what) {
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('bench: stopped')
      options.onProgress?.(done++, total, what)
    },
    skip: (steps) => {
      done += steps
    },
    finish: () => options.onProgress?.(total, total, 'done'),
  }
}

/** Warm-up and, for CGI rows, peak RSS; undefined (and the row skipped) when it does not answer. */
async function prepareRow(options: BenchOptions, l: Live, setup: Setup, generator: Generator, progress: Counter) {
  progress.step(`warming up ${l.name}`)
  const status = await warmUp(options, l, generator)
  if (typeof status !== 'string') {
    l.skip = status.skip
    progress.skip(1 + 2 * options.rounds)
    return undefined
  }
  progress.step(`peak RSS of ${l.name}`)
  const peak = await peakOf(options, l, setup)
  const servedBy = l.worker === undefined ? peak.servedBy : exeOf(l.worker, options)
  return { ...emptyMeasure(l), status, peakMB: peak.peakMB, ...(servedBy === undefined ? {} : { servedBy }) }
}

/** The runtime a process runs, from its binary. */
function exeOf(pid: number, options: BenchOptions): string | undefined {
  try {
    return runtimeOfBinary(readlinkSync(`/proc/${pid}/exe`), options.runtimes)
  } catch {
    return undefined
  }
}

function emptyMeasure(live: Live): Measured {
  return { live, single: [], loaded: [], serverMs: 0, frontMs: undefined, requests: 0, peakMB: undefined, status: '' }
}

function record(m: Measured, single: boolean, r: GenResult): void {
  ;(single ? m.single : m.loaded).push(r)
  const cpu = m.live.split(r)
  m.serverMs += cpu.server
  if (cpu.front !== undefined) m.frontMs = (m.frontMs ?? 0) + cpu.front
  m.requests += r.requests
}

/** One probe request (what the row answers, the cache filled), then a short window at c=N, discarded. */
async function warmUp(options: BenchOptions, l: Live, generator: Generator): Promise<string | { skip: string }> {
  if (l.port === undefined) {
    const r = await inProcessWindow({ ...inProcessArgs(options), conns: 1, durationMs: 50 })
    return r.errors > 0 ? { skip: `the app answered ${r.firstStatus}` } : r.firstStatus
  }
  const answer = await probe(l.port, l.mount + options.path)
  if ('skip' in answer) return answer
  // For CGI rows the probe was the warm-up: a process per request keeps nothing warm.
  if (l.mode.family !== 'cgi')
    await window(options, l, generator, options.concurrency, Math.min(300, options.durationMs / 2))
  return answer.status
}

/** CGI rows: the script's peak RSS and the runtimes its processes reported. */
async function peakOf(options: BenchOptions, l: Live, setup: Setup): Promise<{ peakMB?: number; servedBy?: string }> {
  if (l.script === undefined) return {}
  const [pathInfo = '', query = ''] = options.path.split('?')
  const vars = cgiVars(l.mount, pathInfo, query)
  const { mb, runtimes } = await scriptPeakMB(setup.dir, l.script, vars, setup.path)
  return { peakMB: mb, ...(runtimes.length === 0 ? {} : { servedBy: runtimes.join('+') }) }
}

async function window(options: BenchOptions, l: Live, generator: Generator, conns: number, ms = options.durationMs) {
  if (l.port === undefined) return inProcessWindow({ ...inProcessArgs(options), conns, durationMs: ms })
  const result = await generator.run(windowConfig(options, l, l.port, conns, ms))
  if (l.settled !== undefined) await settle(l.settled)
  return result
}

/** Until the dropped requests' processes are gone (their CPU must not fall into the next window). */
async function settle(settled: () => boolean): Promise<void> {
  for (let waited = 0; !settled() && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10))
}

function windowConfig(options: BenchOptions, l: Live, port: number, conns: number, ms: number): GenConfig {
  return {
    mode: 'loop',
    spec: { kind: 'http', method: 'GET', uri: l.mount + options.path },
    target: { host: '127.0.0.1', port },
    conns,
    warmupMs: 0,
    durationMs: ms,
    minRequests: conns === 1 ? 2 : conns,
    stallMs: STALL_MS,
    pids: l.pids,
    reaped: l.reaped,
    dropInFlight: l.settled !== undefined,
    expectStatus: '',
    samplePoints: SAMPLE_POINTS,
  }
}

function inProcessArgs(options: BenchOptions) {
  const [pathInfo = '', query = ''] = options.path.split('?')
  const vars: Array<[string, string]> = Object.entries({ ...cgiVars('', pathInfo, query), SERVER_PORT: '8000' })
  return { app: options.loaded, vars, samplePoints: SAMPLE_POINTS }
}
