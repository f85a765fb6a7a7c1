// The latency chart: well-formed SVG, one group per mode in order, labelled axes on a log scale, names
// escaped, skipped modes shown with their reason, and the same output for the same data.
import { describe, expect, it } from 'vitest'
import { type ChartRow, formatUs, latencyChart } from '../../src/bench/chart.js'
import { xmlProblems } from './_xml.js'

const spread = (from: number, n: number, step: number): number[] => Array.from({ length: n }, (_, i) => from + i * step)

const ROWS: ChartRow[] = [
  { name: 'cgi tsx', family: 'cgi', samplesUs: spread(400_000, 5, 10_000) },
  { name: 'fastcgi', family: 'resident', samplesUs: spread(150, 900, 0.2) },
  { name: 'in-process', family: 'in-process', samplesUs: spread(2, 500, 0.01) },
  { name: 'apache cgid', family: 'cgi', samplesUs: [], note: 'skipped: apache2 is not installed' },
]

describe('latencyChart', () => {
  const svg = latencyChart(ROWS)

  it('is one well-formed <svg> element (and the check would see a broken one)', () => {
    expect(xmlProblems('<svg><g></svg>')).not.toEqual([])
    expect(xmlProblems('<svg><text>a < b</text></svg>')).not.toEqual([])
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    expect(xmlProblems(svg)).toEqual([])
  })

  it('has one row per mode, in the order given, each in its family', () => {
    const rows = [...svg.matchAll(/<g class="row ([\w-]+)" data-mode="([^"]*)">/g)].map((m) => [m[2], m[1]])
    expect(rows).toEqual(ROWS.map((r) => [r.name, r.family]))
  })

  it('labels the time axis in decades from µs to s, and says what the marks are', () => {
    for (const tick of ['1 µs', '10 µs', '100 µs', '1 ms', '10 ms', '100 ms', '1 s'])
      expect(svg).toContain(`>${tick}</text>`)
    expect(svg).toContain('latency per request (log scale)')
    expect(svg).toMatch(/p50.*p99/)
  })

  it('shows why a mode has no data', () => {
    expect(svg).toContain('skipped: apache2 is not installed')
  })

  it('escapes mode names and notes', () => {
    const odd = latencyChart([
      { name: '<script>&"x\'', family: 'cgi', samplesUs: [100, 200] },
      { name: 'b', family: 'resident', samplesUs: [], note: 'a < b & c' },
    ])
    expect(xmlProblems(odd)).toEqual([])
    expect(odd).not.toContain('<script>')
    expect(odd).toContain('&#60;script&#62;&#38;&#34;x&#39;')
  })

  it('draws the same chart for the same data, and copes with no data at all', () => {
    expect(latencyChart(ROWS)).toBe(svg)
    expect(xmlProblems(latencyChart([]))).toEqual([])
  })

  it('marks the p50 and p99 given instead of its own quantiles of the sample', () => {
    const given = latencyChart([{ name: 'x', family: 'resident', samplesUs: [100, 200, 300], p50Us: 123, p99Us: 456 }])
    expect(given).toContain('>123 µs</text>')
    expect(latencyChart([{ name: 'x', family: 'resident', samplesUs: [100, 200, 300] }])).toContain('>200 µs</text>')
  })

  it('formats times with their unit', () => {
    expect([formatUs(2.5), formatUs(250), formatUs(3500), formatUs(1_200_000)]).toEqual([
      '2.5 µs',
      '250 µs',
      '3.5 ms',
      '1.2 s',
    ])
  })
})
