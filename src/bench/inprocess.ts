// The in-process row: runApp called in this process with an environ from the shared builder, concurrency
// N as N requests in flight, each one after another; a response sink that drops the bytes.
import type { App } from '../app.js'
import { RequestAbort } from '../core/abort.js'
import { runApp } from '../core/engine.js'
import { BodyInput } from '../core/input.js'
import { buildEnviron } from '../protocol/cgi/environ.js'
import type { GenResult } from './loadgen.js'
import { Latencies } from './stats.js'

export interface InProcessWindow {
  app: App
  vars: Array<[string, string]>
  conns: number
  durationMs: number
  samplePoints: number
}

const YIELD_MS = 5
const sink = { head() {}, body() {}, end() {}, abort() {} }

/** One window: requests answered, their latencies, and this process's CPU over it. */
export async function inProcessWindow(w: InProcessWindow): Promise<GenResult> {
  const lat = new Latencies()
  const s = { requests: 0, errors: 0, firstStatus: '' }
  const errors = { write: () => {}, flush: () => {} }
  const gateway = { errors, multithread: false, multiprocess: false, runOnce: false }
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + w.durationMs
  const loop = async (): Promise<void> => {
    let yielded = performance.now()
    for (let now = yielded; now < end; ) {
      const environ = buildEnviron(w.vars, { ...gateway, input: BodyInput.empty(), signal: new RequestAbort() })
      const result = await runApp(w.app, environ, sink)
      const done = performance.now()
      lat.add((done - now) * 1000)
      s.requests++
      if (result.status >= 500 || result.status === 0) s.errors++
      s.firstStatus ||= String(result.status)
      now = done
      if (done - yielded > YIELD_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        yielded = now = performance.now()
      }
    }
  }
  await Promise.all(Array.from({ length: w.conns }, loop))
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return {
    requests: s.requests,
    seconds,
    rps: s.requests / seconds,
    p50us: lat.quantile(0.5),
    p99us: lat.quantile(0.99),
    errors: s.errors,
    mismatched: 0,
    stalled: 0,
    genCpuMs: (cpu.user + cpu.system) / 1000,
    pidCpuMs: {},
    reapedCpuMs: {},
    responseBytes: 0,
    firstStatus: s.firstStatus,
    sample: lat.points(w.samplePoints),
  }
}
