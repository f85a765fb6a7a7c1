// The demo's short comparison: the same hello app through the front as CGI (a process per request) and
// FastCGI (resident), requests one at a time, modes interleaved in rounds so noise hits them alike.
import { Agent, request } from 'node:http'
import { latencyChart } from '../bench/chart.js'

export interface CompareRow {
  name: string
  path: string
  count: number
  p50us: number
  p99us: number
  /** Median over the fastest row's median. */
  ratio: number
  samples: number[]
}

const MODES = [
  { name: 'FastCGI (resident)', path: '/fcgi/hello', family: 'resident' },
  { name: 'CGI (compiled bundle)', path: '/cgi-bin/hello', family: 'cgi' },
  { name: 'CGI (TypeScript via tsx)', path: '/cgi-bin/hello-tsx', family: 'cgi' },
] as const

/** Runs about `budgetMs` of requests against the front at `base`; rows plus the chart as SVG. */
export async function compare(base: string, budgetMs = 4000): Promise<{ rows: CompareRow[]; svg: string }> {
  // A kept connection per mode, as a browser would have per tab: no request waits behind another mode's.
  const agents = MODES.map(() => new Agent({ keepAlive: true, maxSockets: 1 }))
  const samples = MODES.map(() => [] as number[])
  const deadline = performance.now() + budgetMs
  try {
    for (let round = 0; round < 200 && performance.now() < deadline; round++) {
      for (const [i, mode] of MODES.entries()) {
        // The slow tsx mode gets a sample every fifth round: enough for a median, within the budget.
        if (mode.family === 'cgi' && mode.path.endsWith('-tsx') && round % 5 !== 0) continue
        // A CGI response ends before its process has: let the last one exit so it does not slow this mode.
        await new Promise((resolve) => setTimeout(resolve, 40))
        // A resident worker takes a few requests per turn (the first after a pause runs on cold caches).
        for (let n = mode.family === 'resident' ? 5 : 1; n > 0; n--) {
          samples[i]!.push(await timeOne(new URL(mode.path, base), agents[i]!))
        }
      }
    }
  } finally {
    for (const agent of agents) agent.destroy()
  }
  const rows = MODES.map((mode, i) => summarize(mode.name, mode.path, samples[i]!))
  const fastest = Math.min(...rows.map((r) => r.p50us))
  for (const row of rows) row.ratio = row.p50us / fastest
  const svg = latencyChart(rows.map((row, i) => ({ name: row.name, family: MODES[i]!.family, samplesUs: row.samples })))
  return { rows, svg }
}

function timeOne(url: URL, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const req = request(url, { agent }, (res) => {
      res.on('error', reject) // a cut response must fail the comparison, not hang it
      res.on('aborted', () => reject(new Error(`${url.pathname}: response cut short`)))
      res.resume()
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`${url.pathname}: status ${res.statusCode}`))
        else resolve((performance.now() - started) * 1000)
      })
    })
    req.on('error', reject)
    req.end()
  })
}

function summarize(name: string, path: string, samples: number[]): CompareRow {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0
  return { name, path, count: samples.length, p50us: at(0.5), p99us: at(0.99), ratio: 1, samples: sorted }
}
