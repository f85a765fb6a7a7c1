// The result of `tsgi bench` as text: a header saying what ran where, one table row per mode and runtime
// (skipped ones with their reason), what the columns mean, and the notes.
import { formatUs } from './chart.js'
import type { BenchResult, Row } from './types.js'

export interface Column {
  title: string
  cell: (row: Row) => string
}

/** The table's columns, shared by the text and the HTML page; the runtime ratios only when they apply. */
export function columns(result: BenchResult): Column[] {
  const n = result.concurrency
  const several = result.runtimes.length > 1
  const http = result.rows.some((r) => r.vsHttpRps !== undefined)
  return [
    { title: 'mode', cell: (r) => r.name },
    { title: 'n c=1', cell: (r) => String(r.single!.requests) },
    { title: 'p50 c=1', cell: (r) => formatUs(r.single!.p50Us) },
    { title: 'p50 spread', cell: (r) => spread(r.single!.roundP50Us) },
    { title: 'p99 c=1', cell: (r) => formatUs(r.single!.p99Us) },
    { title: 'req/s c=1', cell: (r) => rate(r.single!.rps) },
    { title: `req/s c=${n}`, cell: (r) => rate(r.loaded!.rps) },
    { title: 'CPU/req', cell: (r) => formatUs(r.cpuUs ?? NaN) },
    { title: 'front CPU/req', cell: (r) => formatUs(r.frontCpuUs ?? NaN) },
    { title: 'peak RSS', cell: (r) => (r.peakMB === undefined ? '-' : `${r.peakMB.toFixed(0)} MB`) },
    { title: 'x fastest', cell: (r) => ratio(r.vsFastest) },
    { title: 'x bare', cell: (r) => ratio(r.vsBare) },
    ...(several ? [{ title: `req/s x node`, cell: (r: Row) => ratio(r.vsNodeRps) }] : []),
    ...(http ? [{ title: `req/s x http`, cell: (r: Row) => ratio(r.vsHttpRps) }] : []),
  ]
}

export function formatTable(result: BenchResult): string {
  const cols = columns(result)
  const cells = result.rows.map((r) => (r.skipped === undefined ? cols.map((c) => c.cell(r)) : undefined))
  const widths = cols.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row?.[i]?.length ?? 0)))
  const line = (values: string[]): string =>
    values
      .map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  const out = [header(result), '', line(cols.map((c) => c.title))]
  result.rows.forEach((r, i) => {
    const row = cells[i]
    out.push(row === undefined ? `${r.name.padEnd(widths[0]!)}  skipped: ${r.skipped}` : line(row))
  })
  out.push('', ...legend(result), ...result.notes.map((note) => `note: ${note}`))
  out.push(`took ${result.seconds.toFixed(0)} s`)
  return `${out.join('\n')}\n`
}

export function header(result: BenchResult): string {
  const s = result.system
  const what = `${result.rounds} round${result.rounds === 1 ? '' : 's'} of ${trimSeconds(result.durationMs)} windows at c=1 and c=${result.concurrency}`
  const others = result.runtimes.filter((r) => r.name !== 'node').map((r) => `, ${r.name} ${r.version}`)
  const where = `${s.cores} cores (${s.cpu}), node ${s.node}${others.join('')}, load ${s.load[0].toFixed(2)}`
  return `tsgi bench ${result.app} (GET ${result.path}): ${what}; ${where}`
}

/** What the columns mean, in one line each. */
export function legend(result: BenchResult): string[] {
  const n = result.concurrency
  const several = result.runtimes.length > 1
  const http = result.rows.some((r) => r.vsHttpRps !== undefined)
  return [
    'n c=1: requests timed one at a time; p50/p99 c=1: their latency, all rounds pooled; spread: lowest-highest round median',
    `req/s: requests answered per second with 1 and ${result.concurrency} connections (closed loop)`,
    'CPU/req: the server side per request (CGI: the script processes; resident: the worker; in-process: this process)',
    'front CPU/req: the HTTP front, Apache or nginx itself; peak RSS: CGI per request (all its processes),',
    '  resident per worker, in-process this process; x fastest: p50 over the fastest row; x bare: over bare cjs',
    ...(several ? [`req/s x node: req/s at c=${n} over the same mode's on node (higher is more)`] : []),
    ...(http ? [`req/s x http: req/s at c=${n} over the same runtime's own HTTP server answering the hello`] : []),
  ]
}

/** `231–240 µs`, `980 µs–1.2 ms`: the lowest and highest of the round medians. */
function spread(values: number[]): string {
  const finite = values.filter(Number.isFinite)
  if (finite.length === 0) return '-'
  const [low, high] = [formatUs(Math.min(...finite)), formatUs(Math.max(...finite))]
  const unit = (text: string): string => text.split(' ')[1] ?? ''
  return unit(low) === unit(high) ? `${low.split(' ')[0]}–${high}` : `${low}–${high}`
}

function rate(rps: number): string {
  if (!Number.isFinite(rps)) return '-'
  return rps >= 100 ? Math.round(rps).toLocaleString('en-US') : rps.toFixed(1)
}

export function ratio(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return ''
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')}x`
  return `${value.toFixed(value >= 10 ? 1 : 2)}x`
}

function trimSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : 2)} s`
}
