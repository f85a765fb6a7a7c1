// `tsgi bench` for real, kept short: two cheap modes, one round of 0.3 s windows, as a child process with
// stderr on a pipe (no progress bar then). The JSON's shape, the table made from it, the HTML page.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseModes } from '../../src/bench/modes.js'
import { progressBar } from '../../src/bench/progress.js'
import { formatTable } from '../../src/bench/report.js'
import type { BenchResult } from '../../src/bench/types.js'
import { main } from '../../src/cli/main.js'
import { runCli } from './_cli.js'
import { xmlProblems } from './_xml.js'

describe('tsgi bench --modes in-process,dev-server (a short real run)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-test-'))
  const page = join(dir, 'bench.html')
  let run: Awaited<ReturnType<typeof runCli>>
  let result: BenchResult

  beforeAll(async () => {
    const args = ['bench', '--modes', 'in-process,dev-server', '--duration', '0.3', '--rounds', '1', '-c', '2']
    run = await runCli([...args, '--json', '--html', page])
    result = JSON.parse(run.stdout) as BenchResult
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('exits 0 and prints only JSON on stdout, no progress bar on a piped stderr', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout.trimStart().startsWith('{')).toBe(true)
    expect(run.stderr).not.toContain('\r')
    expect(run.stderr).not.toContain('[#')
  })

  it('has one row per chosen mode, in order, each measured at c=1 and c=N', () => {
    expect(result.app).toBe('examples/hello.ts')
    expect(result).toMatchObject({ concurrency: 2, durationMs: 300, rounds: 1, path: '/' })
    expect(result.rows.map((r) => [r.id, r.name, r.family])).toEqual([
      ['in-process', 'in-process', 'in-process'],
      ['dev-server', 'dev server', 'resident'],
    ])
    for (const row of result.rows) {
      expect(row.skipped, row.name).toBeUndefined()
      expect(row.status).toBe('200')
      expect(row.errors).toBe(0)
      expect(row.single!.concurrency).toBe(1)
      expect(row.loaded!.concurrency).toBe(2)
      expect(row.single!.requests).toBeGreaterThan(10)
      expect(row.single!.p50Us).toBeGreaterThan(0)
      expect(row.single!.p99Us).toBeGreaterThanOrEqual(row.single!.p50Us)
      expect(row.single!.roundP50Us).toHaveLength(1)
      expect(row.loaded!.rps).toBeGreaterThan(0)
      expect(row.cpuUs).toBeGreaterThan(0)
      expect(row.peakMB).toBeGreaterThan(10)
      expect(row.sampleUs!.length).toBeGreaterThan(10)
    }
  })

  it('gives ratios to the fastest row: in-process is it', () => {
    const [inProcess, dev] = result.rows
    expect(inProcess!.vsFastest).toBe(1)
    expect(dev!.vsFastest).toBeGreaterThan(1)
    expect(dev!.vsBare).toBeUndefined()
  })

  it('makes a table with a header, a line per row and the columns explained', () => {
    const lines = formatTable(result).split('\n')
    expect(lines[0]).toMatch(/^tsgi bench examples\/hello\.ts \(GET \/\): 1 round of 0\.3 s windows at c=1 and c=2/)
    expect(lines[2]).toMatch(/^mode +n c=1 +p50 c=1 +p50 spread +p99 c=1 +req\/s c=1 +req\/s c=2 +CPU\/req/)
    expect(lines[3]).toMatch(/^in-process +\d+ +[\d.]+ µs .* 1\.00x$/)
    expect(lines[4]).toMatch(/^dev server +\d+ +[\d.]+ (µs|ms) /)
    expect(lines.some((line) => line.startsWith('CPU/req: '))).toBe(true)
  })

  it('writes a self-contained HTML page with the chart', () => {
    const html = readFileSync(page, 'utf8')
    expect(html).toMatch(/^<!DOCTYPE html>/)
    expect(html).toContain('<svg xmlns="http://www.w3.org/2000/svg"')
    expect(html.match(/<g class="row /g)).toHaveLength(2)
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//)
    expect(xmlProblems(html.replace('<!DOCTYPE html>', ''), { voidTags: ['meta'] })).toEqual([])
  })
})

describe('tsgi bench options', () => {
  it('takes mode ids or names, and refuses unknown ones', () => {
    expect(parseModes('in-process, dev server,fastcgi')).toEqual(['in-process', 'dev-server', 'fastcgi'])
    expect(parseModes('cgi-tsx,bogus')).toEqual({ unknown: 'bogus' })
    expect(Array.isArray(parseModes(undefined)) && parseModes(undefined)).toHaveLength(10)
  })

  it.each([
    [['--modes', 'bogus'], /unknown mode "bogus"/],
    [['--rounds', '0'], /--rounds takes a whole number/],
    [['--duration', 'x'], /--duration takes seconds/],
    [['--path', 'nope'], /--path must start with \//],
  ])('%j is a usage error', async (args, message) => {
    let stderr = ''
    const code = await main(['bench', ...args], { stdout: () => {}, stderr: (text) => (stderr += text) })
    expect(code).toBe(1)
    expect(stderr).toMatch(message)
  })

  it('draws a progress bar in place, within the terminal width, and erases it', () => {
    let out = ''
    const bar = progressBar((text) => (out += text), 80)
    bar.update(3, 12, 'round 1/3: dev server c=4')
    expect(out).toMatch(/^\r\[#{6}\.{18}\] 25% \d+ s round 1\/3: dev server c=4$/)
    bar.clear()
    expect(out.endsWith('\r')).toBe(true)
    out = ''
    progressBar((text) => (out += text), 40).update(1, 2, 'a long description of the step')
    expect(out.length).toBe(40)
  })
})
