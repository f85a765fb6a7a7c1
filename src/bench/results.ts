// From what each row measured to the rows of the result: pooled latency quantiles, throughput, CPU and
// memory per request, and the ratios: to the fastest row, to the bare CGI floor, to the same mode on Node and
// to the runtime's own HTTP server.
import type { GenResult } from './loadgen.js'
import { pooledPoints, pooledQuantile, type SystemInfo, type Window } from './stats.js'
import type { BenchOptions, BenchResult, Level, Measured, Row } from './types.js'

export function summarize(
  options: BenchOptions,
  measured: Measured[],
  system: SystemInfo,
  seconds: number,
): BenchResult {
  const rows = measured.map((m) => row(m, options.concurrency, options.isHello))
  ratios(rows)
  return {
    app: options.label,
    system,
    runtimes: options.runtimes.map(({ name, version }) => ({ name, version })),
    concurrency: options.concurrency,
    durationMs: options.durationMs,
    rounds: options.rounds,
    path: options.path,
    rows,
    notes: notes(options, rows),
    seconds,
  }
}

function row(m: Measured, concurrency: number, isHello: boolean): Row {
  const { mode, skip, runtime } = m.live
  const floor = (mode.id === 'bare-cjs' || mode.id === 'http') && !isHello
  const name = floor ? helloFloor(m.live.name) : m.live.name
  const base: Row = { id: mode.id, runtime, name, family: mode.family, what: mode.what }
  if (skip !== undefined || m.single.length === 0) return { ...base, skipped: skip ?? 'not measured' }
  const perRequest = (ms: number | undefined): number | undefined =>
    ms === undefined || m.requests === 0 ? undefined : (ms * 1000) / m.requests
  const frontCpuUs = perRequest(m.frontMs)
  return {
    ...base,
    single: level(1, m.single),
    loaded: level(concurrency, m.loaded),
    cpuUs: perRequest(m.serverMs),
    ...(frontCpuUs === undefined ? {} : { frontCpuUs }),
    ...(m.peakMB === undefined || !Number.isFinite(m.peakMB) ? {} : { peakMB: m.peakMB }),
    errors: [...m.single, ...m.loaded].reduce((sum, r) => sum + r.errors + r.stalled, 0),
    status: m.status,
    ...(m.servedBy === undefined ? {} : { servedBy: m.servedBy }),
    sampleUs: pooledPoints(windows(m.single), 200),
  }
}

/** `bare cjs (hello floor)`, `http (bun, hello floor)`. */
function helloFloor(name: string): string {
  return name.endsWith(')') ? `${name.slice(0, -1)}, hello floor)` : `${name} (hello floor)`
}

function windows(results: GenResult[]): Window[] {
  return results.map((r) => ({ requests: r.requests, points: r.sample ?? [] }))
}

function level(concurrency: number, results: GenResult[]): Level {
  const requests = results.reduce((sum, r) => sum + r.requests, 0)
  const seconds = results.reduce((sum, r) => sum + r.seconds, 0)
  return {
    concurrency,
    requests,
    rps: seconds > 0 ? requests / seconds : NaN,
    p50Us: pooledQuantile(windows(results), 0.5),
    p99Us: pooledQuantile(windows(results), 0.99),
    roundP50Us: results.map((r) => r.p50us),
  }
}

function ratios(rows: Row[]): void {
  const measured = rows.filter((r) => r.single !== undefined)
  const fastest = Math.min(...measured.map((r) => r.single!.p50Us))
  const find = (id: Row['id'], runtime: Row['runtime']) => measured.find((r) => r.id === id && r.runtime === runtime)
  const bare = find('bare-cjs', 'node')?.single?.p50Us
  const several = new Set(rows.map((r) => r.runtime)).size > 1
  for (const r of measured) {
    r.vsFastest = r.single!.p50Us / fastest
    if (r.family === 'cgi' && bare !== undefined) r.vsBare = r.single!.p50Us / bare
    const onNode = find(r.id, 'node')?.loaded?.rps
    const sameMode = rows.some((o) => o.id === r.id && o.runtime !== r.runtime)
    if (several && sameMode && onNode !== undefined) r.vsNodeRps = r.loaded!.rps / onNode
    const http = find('http', r.runtime)?.loaded?.rps
    if (r.family === 'resident' && http !== undefined) r.vsHttpRps = r.loaded!.rps / http
  }
}

function notes(options: BenchOptions, rows: Row[]): string[] {
  const out: string[] = []
  const bare = rows.find((r) => r.id === 'bare-cjs')
  if (bare?.single !== undefined && !options.isHello)
    out.push('bare cjs prints the hello example bytes: a floor for the hello, not for this app')
  out.push(...runtimeNotes(options, rows))
  const cached = rows.find((r) => r.id === 'cgi-cached')
  if (cached?.vsBare !== undefined && options.isHello)
    out.push(
      `cgi cached / bare cjs: ${cached.vsBare.toFixed(2)}x (target <= 1.10x)${cached.vsBare <= 1.1 ? '' : ': NOT met'}`,
    )
  out.push(...statusNotes(options, rows))
  const few = rows.filter((r) => r.single !== undefined && r.single.requests < 10)
  if (few.length > 0)
    out.push(
      `${few.map((r) => r.name).join(', ')}: fewer than 10 requests at c=1, p50/p99 are rough (raise --duration)`,
    )
  const failed = rows.filter((r) => (r.errors ?? 0) > 0)
  for (const r of failed) out.push(`${r.name}: ${r.errors} failed requests`)
  return out
}

/** Rows that did not answer 2xx, one note per status. */
export function statusNotes(options: BenchOptions, rows: Row[]): string[] {
  const byStatus = new Map<string, string[]>()
  for (const r of rows) {
    if (r.status === undefined || r.status.startsWith('2')) continue
    byStatus.set(r.status, [...(byStatus.get(r.status) ?? []), r.name])
  }
  const inProcess = rows.find((r) => r.id === 'in-process')?.status
  return [...byStatus].map(([status, names]) => {
    // A Hono or Express app written for / sees SCRIPT_NAME + PATH_INFO when mounted: it 404s there only
    // (certainly so when the in-process row, at /, answered).
    const mounted = status === '404' && !options.app.stripScriptName && inProcess?.startsWith('2') !== false
    const hint = mounted ? ' (mounted below a prefix there, an app written for / wants --strip-script-name)' : ''
    const verb = names.length === 1 ? 'answers' : 'answer'
    return `${names.join(', ')} ${verb} ${status} to GET ${options.path}${hint}`
  })
}

/** The Bun CGI target (issue 13), and any row another runtime answered than the one it was meant for. */
function runtimeNotes(options: BenchOptions, rows: Row[]): string[] {
  const out: string[] = []
  const bun = rows.find((r) => r.id === 'cgi-build' && r.runtime === 'bun')
  if (bun?.vsBare !== undefined && options.isHello) {
    const met = bun.vsBare <= 0.75 ? '' : ': NOT met'
    out.push(`${bun.name} / bare cjs on node: ${bun.vsBare.toFixed(2)}x (target <= 0.75x)${met}`)
  }
  for (const r of rows.filter((r) => r.servedBy !== undefined && r.servedBy !== r.runtime))
    out.push(`${r.name} was answered by ${r.servedBy}, not ${r.runtime}`)
  return out
}
