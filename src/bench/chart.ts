// The latency chart of `tsgi bench` and the demo page: one row per mode on a log time axis, the requests
// as dots, a box from p25 to p75, p50 and p99 marked. Pure: data in, an SVG string out (browser or server).

export type Family = 'cgi' | 'resident' | 'in-process'

export interface ChartRow {
  name: string
  family: Family
  /** Latencies in µs (all of them, or evenly spaced quantiles); empty for a mode that did not run. */
  samplesUs: number[]
  /** Shown instead of the data when the row has none (why it was skipped). */
  note?: string
  /** The median and p99 to mark, when computed elsewhere (default: from samplesUs). */
  p50Us?: number
  p99Us?: number
}

export interface ChartOptions {
  title?: string
  width?: number
}

export const FAMILY_COLORS: Record<Family, string> = {
  cgi: '#d95f02',
  resident: '#1b7f9e',
  'in-process': '#7a5cc4',
}

const FAMILY_LABELS: Record<Family, string> = {
  cgi: 'CGI: a process per request',
  resident: 'resident worker',
  'in-process': 'in-process call',
}

const ROW = 30
const TOP = 48
const BOTTOM = 46
const RIGHT = 84
const DOTS = 160

/** The chart as a standalone `<svg>` element. */
export function latencyChart(rows: ChartRow[], options: ChartOptions = {}): string {
  const width = options.width ?? 760
  const left = Math.min(220, 16 + 7 * Math.max(8, ...rows.map((r) => r.name.length)))
  const height = TOP + ROW * Math.max(1, rows.length) + BOTTOM
  const axis = logAxis(
    rows.flatMap((r) => r.samplesUs),
    left,
    width - RIGHT,
  )
  const title = options.title ?? 'Latency per request, by mode'
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${left}" y="16" font-size="14" font-weight="600" fill="#222">${esc(title)}</text>`,
    legend(rows, left),
    grid(axis, TOP, TOP + ROW * rows.length),
    ...rows.map((row, i) => rowMarks(row, TOP + ROW * i, axis, left, width)),
    axisLabels(axis, TOP + ROW * rows.length, (left + width - RIGHT) / 2),
    '</svg>',
  ]
  return parts.join('\n')
}

interface Axis {
  x: (us: number) => number
  ticks: number[]
}

/** A log10 scale from the decade below the fastest sample to the decade above the slowest. */
function logAxis(all: number[], x0: number, x1: number): Axis {
  const finite = all.filter((v) => Number.isFinite(v) && v > 0)
  const lo = 10 ** Math.floor(Math.log10(finite.length ? Math.min(...finite) : 1))
  const hi = Math.max(lo * 10, 10 ** Math.ceil(Math.log10(finite.length ? Math.max(...finite) : 1e6)))
  const span = Math.log10(hi) - Math.log10(lo)
  const x = (us: number): number => x0 + ((Math.log10(Math.max(us, lo)) - Math.log10(lo)) / span) * (x1 - x0)
  const ticks: number[] = []
  for (let decade = lo; decade <= hi; decade *= 10) {
    for (const m of span > 4 ? [1] : [1, 2, 5]) if (decade * m <= hi) ticks.push(decade * m)
  }
  return { x, ticks }
}

function grid(axis: Axis, y0: number, y1: number): string {
  return axis.ticks
    .map((t) => {
      const x = axis.x(t).toFixed(1)
      const major = Number.isInteger(Math.log10(t))
      return `<line x1="${x}" y1="${y0 - 4}" x2="${x}" y2="${y1}" stroke="${major ? '#ccc' : '#eee'}"/>`
    })
    .join('\n')
}

function axisLabels(axis: Axis, y: number, middle: number): string {
  const labels = axis.ticks.map(
    (t) => `<text x="${axis.x(t).toFixed(1)}" y="${y + 16}" text-anchor="middle" fill="#444">${formatUs(t)}</text>`,
  )
  const name = `<text x="${middle.toFixed(1)}" y="${y + 36}" text-anchor="middle" fill="#222">latency per request (log scale); box p25 to p75, bar p50, diamond p99</text>`
  return [...labels, name].join('\n')
}

function legend(rows: ChartRow[], left: number): string {
  const families = (['cgi', 'resident', 'in-process'] as const).filter((f) => rows.some((r) => r.family === f))
  let x = left
  const out: string[] = []
  for (const family of families) {
    out.push(`<rect x="${x}" y="25" width="10" height="10" fill="${FAMILY_COLORS[family]}"/>`)
    out.push(`<text x="${x + 14}" y="34" fill="#444">${esc(FAMILY_LABELS[family])}</text>`)
    x += 24 + 7 * FAMILY_LABELS[family].length
  }
  return out.join('\n')
}

function rowMarks(row: ChartRow, top: number, axis: Axis, left: number, width: number): string {
  const mid = top + ROW / 2
  const color = FAMILY_COLORS[row.family] ?? '#555'
  const label = `<text x="${left - 8}" y="${mid + 4}" text-anchor="end" fill="#222">${esc(row.name)}</text>`
  const sorted = row.samplesUs.filter((v) => Number.isFinite(v) && v > 0).sort((a, b) => a - b)
  const group = (marks: string[]): string =>
    `<g class="row ${row.family}" data-mode="${esc(row.name)}">\n${marks.join('\n')}\n</g>`
  if (sorted.length === 0) {
    const why = esc(row.note ?? 'no data')
    return group([label, `<text x="${left + 4}" y="${mid + 4}" fill="#888" font-style="italic">${why}</text>`])
  }
  const q = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!
  const [median50, tail99] = [row.p50Us ?? q(0.5), row.p99Us ?? q(0.99)]
  const [p25, p50, p75, p99] = [q(0.25), median50, q(0.75), tail99].map(axis.x) as [number, number, number, number]
  const band = `<rect x="${left}" y="${top + 2}" width="${width - left}" height="${ROW - 4}" fill="${color}" fill-opacity="0.04"/>`
  const box = `<rect x="${p25.toFixed(1)}" y="${mid - 8}" width="${Math.max(1, p75 - p25).toFixed(1)}" height="16" fill="${color}" fill-opacity="0.25" stroke="${color}"/>`
  const whisker = `<line x1="${axis.x(sorted[0]!).toFixed(1)}" y1="${mid}" x2="${axis.x(sorted.at(-1)!).toFixed(1)}" y2="${mid}" stroke="${color}" stroke-opacity="0.5"/>`
  const median = `<line x1="${p50.toFixed(1)}" y1="${mid - 10}" x2="${p50.toFixed(1)}" y2="${mid + 10}" stroke="${color}" stroke-width="3"/>`
  const tail = `<path d="M${p99.toFixed(1)} ${mid - 5}l5 5l-5 5l-5 -5z" fill="${color}"/>`
  const value = `<text x="${width - RIGHT + 8}" y="${mid + 4}" fill="#222">${formatUs(median50)}</text>`
  return group([band, label, whisker, dots(sorted, axis, mid, color), box, median, tail, value])
}

/** At most DOTS samples, spread over the row's height by a fixed pattern (the same chart every time). */
function dots(sorted: number[], axis: Axis, mid: number, color: string): string {
  const step = Math.max(1, sorted.length / DOTS)
  const out: string[] = []
  for (let i = 0, k = 0; i < sorted.length; i += step, k++) {
    const y = mid + (((k * 0.618034) % 1) - 0.5) * (ROW - 10)
    const x = axis.x(sorted[Math.floor(i)]!)
    out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="1.6" fill="${color}" fill-opacity="0.45"/>`)
  }
  return out.join('')
}

/** 250 µs, 3.5 ms, 1.2 s. */
export function formatUs(us: number): string {
  if (!Number.isFinite(us)) return '-'
  if (us >= 1e6) return `${trim(us / 1e6)} s`
  if (us >= 1e3) return `${trim(us / 1e3)} ms`
  return `${trim(us)} µs`
}

function trim(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1).replace(/\.0$/, '') : n.toFixed(2).replace(/\.?0+$/, '')
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
