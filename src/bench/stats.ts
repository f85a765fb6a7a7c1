// Numbers for the benches: latency recording, medians and quantiles, merging the latency samples of
// several windows, shuffling, and a line about the machine.
import { cpus, loadavg, release } from 'node:os'

/** Latencies in µs, appended without allocation per request. */
export class Latencies {
  data = new Float64Array(1 << 16)
  n = 0
  add(us: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.n * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = us
  }
  quantile(q: number): number {
    if (this.n === 0) return NaN
    const sorted = this.data.subarray(0, this.n).sort()
    return sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!
  }
  /** At most `k` evenly spaced quantiles, ascending (every value when there are fewer). */
  points(k: number): number[] {
    const sorted = this.data.subarray(0, this.n).sort()
    if (this.n <= k) return Array.from(sorted)
    return Array.from({ length: k }, (_, i) => sorted[Math.floor(((i + 0.5) * this.n) / k)]!)
  }
}

export function median(values: number[]): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A latency sample of one window: quantile points standing for `requests` requests. */
export interface Window {
  requests: number
  points: number[]
}

/** Quantile q of several windows' samples pooled, each point weighted by the requests it stands for. */
export function pooledQuantile(windows: Window[], q: number): number {
  const weighted: Array<[value: number, weight: number]> = []
  for (const w of windows) {
    if (w.points.length === 0) continue
    const weight = w.requests / w.points.length
    for (const value of w.points) weighted.push([value, weight])
  }
  if (weighted.length === 0) return NaN
  weighted.sort((a, b) => a[0] - b[0])
  const total = weighted.reduce((sum, [, weight]) => sum + weight, 0)
  let seen = 0
  for (const [value, weight] of weighted) {
    seen += weight
    if (seen > q * total) return value
  }
  return weighted.at(-1)![0]
}

/** `k` evenly spaced quantiles of the pooled windows, for plotting. */
export function pooledPoints(windows: Window[], k: number): number[] {
  return Array.from({ length: k }, (_, i) => pooledQuantile(windows, (i + 0.5) / k))
}

export function shuffle<T>(items: T[]): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export interface SystemInfo {
  cores: number
  cpu: string
  kernel: string
  node: string
  load: [number, number, number]
}

export function systemInfo(): SystemInfo {
  const cpu = cpus()
  const [l1 = 0, l5 = 0, l15 = 0] = loadavg()
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    kernel: release(),
    node: process.version,
    load: [l1, l5, l15],
  }
}

/** The two lines the old benches print first. */
export function systemLines(info: SystemInfo = systemInfo()): string {
  const [l1, l5, l15] = info.load
  return [
    `system: ${info.cores} cores (${info.cpu}), Linux ${info.kernel}, node ${info.node}`,
    `load average: ${l1.toFixed(2)} ${l5.toFixed(2)} ${l15.toFixed(2)}`,
  ].join('\n')
}
