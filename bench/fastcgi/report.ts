// Samples, medians and the printed tables of the FastCGI bench: one row per variant, medians over the
// interleaved rounds, ratios paired round by round, PASS/FAIL beside each target.
import { MB } from '../../src/bench/proc-stats.js'
import { median } from '../../src/bench/stats.js'

/** One measurement of one variant in one round. */
export interface Sample {
  round: number
  rps: number
  p50us: number
  p99us: number
  requests: number
  seconds: number
  /** Errors, mismatched responses and stalls together (the err column). */
  errors: number
  /** Requests stuck at the end of the window (no answer for over a second). */
  stalled?: number
  /** CPU of the server under test (responder or node:http), µs per request. */
  serverUs: number
  /** CPU of the front (nginx worker), µs per request, when there is one. */
  frontUs?: number
  /** CPU of the load generator, µs per request, and as a share of one core. */
  genUs: number
  genCore: number
  /** Bytes per second through the responder (bodies). */
  bytesPerSec?: number
  /** Peak RSS of the server during the sample, MB. */
  peakMB?: number
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '-'
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

const COLUMNS = [
  'row',
  'req/s',
  'p50 µs',
  'p99 µs',
  'srv CPU µs/req',
  'front µs/req',
  'gen µs/req',
  'gen core',
  'MB/s',
  'peak MB',
  'err',
]
const WIDTHS = [44, 9, 8, 8, 15, 13, 11, 9, 7, 8, 4]

function line(cells: string[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(WIDTHS[i]!) : cell.padStart(WIDTHS[i]!))).join(' ')
}

/** One table: medians of each variant's samples (rounds = samples.length). */
export function table(title: string, rows: Array<{ name: string; samples: Sample[] }>): string {
  const out = [title, line(COLUMNS), '-'.repeat(WIDTHS.reduce((a, b) => a + b + 1, -1))]
  for (const { name, samples } of rows) {
    if (samples.length === 0) continue
    const m = (pick: (s: Sample) => number | undefined): number => median(samples.map((s) => pick(s) ?? NaN))
    out.push(
      line([
        name,
        fmt(m((s) => s.rps)),
        fmt(m((s) => s.p50us)),
        fmt(m((s) => s.p99us)),
        fmt(
          m((s) => s.serverUs),
          1,
        ),
        fmt(
          m((s) => s.frontUs),
          1,
        ),
        fmt(
          m((s) => s.genUs),
          1,
        ),
        `${fmt(m((s) => s.genCore) * 100)}%`,
        fmt(m((s) => (s.bytesPerSec === undefined ? undefined : s.bytesPerSec / MB))),
        fmt(
          m((s) => s.peakMB),
          1,
        ),
        String(samples.reduce((sum, s) => sum + s.errors, 0)),
      ]),
    )
    const stalled = samples.filter((s) => (s.stalled ?? 0) > 0).length
    if (stalled > 0)
      out.push(`  ^ STALLED in ${stalled} of ${samples.length} rounds: a request got no answer for over a second`)
  }
  return out.join('\n')
}

/** Median of per-round ratios a/b (pairs from the same round only). */
export function pairedRatio(a: Sample[], b: Sample[], pick: (s: Sample) => number = (s) => s.rps): number {
  const ratios: number[] = []
  for (const x of a) {
    const y = b.find((s) => s.round === x.round)
    if (y !== undefined) ratios.push(pick(x) / pick(y))
  }
  return median(ratios)
}

export interface Target {
  what: string
  value: number
  unit: string
  op: '>=' | '<='
  limit: number
}

export function targets(list: Target[]): string {
  const out = ['targets']
  for (const t of list) {
    const ok = Number.isFinite(t.value) && (t.op === '>=' ? t.value >= t.limit : t.value <= t.limit)
    const value = `${fmt(t.value, t.value < 10 ? 2 : 1)} ${t.unit}`.padStart(16)
    out.push(
      `  ${ok ? 'PASS' : 'FAIL'}  ${t.what.padEnd(58)} ${value}  (${t.op} ${fmt(t.limit, t.limit < 10 ? 2 : 0)} ${t.unit})`,
    )
  }
  return out.join('\n')
}

export const PEERS = `reference: peers measured on this kind of machine (docs/performance.md; other runs, other days)
  node:http hello, direct                           55,000 req/s
  lean feature-less Node responder, direct c=16     59,000 req/s (Unix)
  Go net/http/fcgi (GOMAXPROCS=1), direct c=16      28,700 req/s (Unix)
  PHP-FPM (2 children), direct c=16                 26,800 req/s (2 of 16 connections served)
  node-fastcgi 2.0.0, direct c=16                    5,200 req/s (closes every connection)`
