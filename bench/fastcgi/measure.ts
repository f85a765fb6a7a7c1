// One measurement = one Sample: a generator run (or wrk) against a server, with the server's CPU read
// from /proc around the window and its peak RSS (VmHWM reset before, read after).

import { trackPeak } from '../../src/bench/proc-stats.js'
import type { RequestSpec } from '../../src/bench/wire.js'
import { runWrk } from './front.js'
import type { Sample } from './report.js'
import { generate, type Server } from './servers.js'

export interface Knobs {
  loadgen: string
  warmupMs: number
  durationMs: number
}

export interface LoopOptions {
  spec: RequestSpec
  conns: number
  expectBody?: string
  /** Bytes moved per request for the MB/s column (request body or response). */
  bodyBytes?: 'request' | 'response'
  durationMs?: number
}

const SEC = 1000

/** The closed-loop generator against `server`. */
export async function loopSample(knobs: Knobs, server: Server, round: number, o: LoopOptions): Promise<Sample> {
  const peak = trackPeak(server.pid)
  const r = await generate(knobs.loadgen, {
    mode: 'loop',
    spec: o.spec,
    target: server.target,
    conns: o.conns,
    warmupMs: knobs.warmupMs,
    durationMs: o.durationMs ?? knobs.durationMs,
    pids: server.pids ?? [server.pid],
    expectStatus: '200',
    ...(o.expectBody !== undefined ? { expectBody: o.expectBody } : {}),
  })
  const perReq = (ms: number): number => (ms * SEC) / r.requests
  const moved =
    o.bodyBytes === 'request'
      ? (o.spec.bodyBytes ?? 0) * r.requests
      : o.bodyBytes === 'response'
        ? r.responseBytes
        : undefined
  return {
    round,
    rps: r.rps,
    p50us: r.p50us,
    p99us: r.p99us,
    requests: r.requests,
    seconds: r.seconds,
    errors: r.errors + r.mismatched + r.stalled,
    stalled: r.stalled,
    serverUs: perReq((server.pids ?? [server.pid]).reduce((sum, pid) => sum + (r.pidCpuMs[pid] ?? NaN), 0)),
    genUs: perReq(r.genCpuMs),
    genCore: r.genCpuMs / SEC / r.seconds,
    ...(moved !== undefined ? { bytesPerSec: moved / r.seconds } : {}),
    peakMB: peak(),
  }
}

/** wrk (one thread) against a URL; `front` is nginx's worker when the URL goes through nginx. */
export async function wrkSample(
  url: string,
  conns: number,
  seconds: number,
  server: Server,
  round: number,
  frontPid?: number,
): Promise<Sample> {
  const peak = trackPeak(server.pid)
  const pids = frontPid === undefined ? [server.pid] : [server.pid, frontPid]
  const r = await runWrk(url, conns, seconds, pids)
  const perReq = (ms: number): number => (ms * SEC) / r.requests
  return {
    round,
    rps: r.rps,
    p50us: r.p50us,
    p99us: r.p99us,
    requests: r.requests,
    seconds: r.seconds,
    errors: r.errors,
    serverUs: perReq((server.pids ?? [server.pid]).reduce((sum, pid) => sum + (r.pidCpuMs[pid] ?? NaN), 0)),
    ...(frontPid !== undefined ? { frontUs: perReq(r.pidCpuMs[frontPid] ?? NaN) } : {}),
    genUs: perReq(r.genCpuMs),
    genCore: r.genCpuMs / SEC / seconds,
    peakMB: peak(),
  }
}
