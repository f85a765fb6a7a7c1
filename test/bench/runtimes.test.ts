// `tsgi bench --runtime`: the option, where Bun and Deno are looked for and the error when one is not there,
// and one short real run on Node, Bun and Deno whose rows say which runtime answered them. Without Bun or
// Deno the real run is skipped with the command that fetches them, or fails CI (TSGI_REQUIRE_SERVERS=1).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseModes, rowSpecs } from '../../src/bench/modes.js'
import { formatTable } from '../../src/bench/report.js'
import { findRuntime, parseRuntimes } from '../../src/bench/runtimes.js'
import type { BenchResult } from '../../src/bench/types.js'
import { main } from '../../src/cli/main.js'
import { findRuntimes } from '../_runtimes.js'
import { runCli } from './_cli.js'

const FETCH = 'bash scripts/fetch-runtimes.sh'
const temp = mkdtempSync(join(tmpdir(), 'tsgi-bench-runtimes-'))
afterAll(() => rmSync(temp, { recursive: true, force: true }))

async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const code = await main(['bench', ...args], { stdout: () => {}, stderr: (text) => (stderr += text) })
  return { code, stderr }
}

describe('tsgi bench --runtime: the option', () => {
  it('takes names in the order given, each once; Node alone by default', () => {
    expect(parseRuntimes(undefined)).toEqual(['node'])
    expect(parseRuntimes('node, Bun,deno,bun')).toEqual(['node', 'bun', 'deno'])
    expect(parseRuntimes('node,java')).toEqual({ unknown: 'java' })
  })

  it('adds the http row to the default modes only when runtimes are compared', () => {
    expect(parseModes(undefined)).not.toContain('http')
    expect(parseModes(undefined, true)).toContain('http')
  })

  it('makes a row of each mode on each runtime it runs on, named after the runtime', () => {
    const rows = rowSpecs(['cgi-tsx', 'cgi-build', 'http'], ['node', 'bun'])
    expect(rows.map((r) => [r.mode.id, r.runtime, r.name])).toEqual([
      ['cgi-tsx', 'node', 'cgi tsx'],
      ['cgi-build', 'node', 'cgi build (node)'],
      ['cgi-build', 'bun', 'cgi build (bun)'],
      ['http', 'node', 'http (node)'],
      ['http', 'bun', 'http (bun)'],
    ])
    expect(rowSpecs(['fastcgi'], ['node']).map((r) => r.name)).toEqual(['fastcgi'])
    expect(rowSpecs(['fastcgi'], ['deno']).map((r) => r.name)).toEqual(['fastcgi (deno)'])
  })

  it('finds a runtime on PATH before the checkout cache, and says how to get a missing one', () => {
    const bin = join(temp, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'bun'), '#!/bin/sh\necho 9.8.7\n')
    chmodSync(join(bin, 'bun'), 0o755)
    expect(findRuntime('bun', { env: { PATH: `/nonexistent:${bin}` }, root: temp })).toMatchObject({
      name: 'bun',
      binary: join(bin, 'bun'),
      version: '9.8.7',
      argv: [join(bin, 'bun')],
    })
    const missing = findRuntime('deno', { env: { PATH: bin }, root: temp })
    expect(missing).toEqual({ missing: expect.stringContaining('bash scripts/fetch-runtimes.sh') })
    expect(missing).toEqual({ missing: expect.stringContaining('neither on PATH nor in') })
    expect(findRuntime('deno', { env: { TSGI_DENO: join(temp, 'nope') }, root: temp })).toEqual({
      missing: `TSGI_DENO=${join(temp, 'nope')} is not a file`,
    })
  })

  it.each([
    [['--runtime', 'java'], /--runtime: unknown runtime "java" \(node, bun or deno\)/],
    [['--runtime', ','], /--runtime needs at least one/],
    [['--runtime', 'bun', '--modes', 'in-process'], /--modes in-process run on node only: add node to --runtime/],
  ])('%j is a usage error', async (args, message) => {
    const { code, stderr } = await cli(args)
    expect(code).toBe(1)
    expect(stderr).toMatch(message)
  })

  it('refuses a runtime it cannot find, saying how to get it', async () => {
    const before = process.env.TSGI_BUN
    process.env.TSGI_BUN = join(temp, 'no-bun')
    try {
      const { code, stderr } = await cli(['--runtime', 'node,bun'])
      expect(code).toBe(1)
      expect(stderr).toContain(`tsgi: --runtime bun: TSGI_BUN=${join(temp, 'no-bun')} is not a file`)
    } finally {
      if (before === undefined) delete process.env.TSGI_BUN
      else process.env.TSGI_BUN = before
    }
  })
})

const { found, missing } = findRuntimes()
const required = process.env.TSGI_REQUIRE_SERVERS === '1'
if (missing.length > 0 && !required)
  console.warn(`bench runtimes: real run skipped, ${missing.map((r) => r.name).join(' and ')} not installed: ${FETCH}`)

describe.skipIf(missing.length > 0 && !required)('tsgi bench --runtime node,bun,deno (a short real run)', () => {
  const modes = ['cgi-build', 'bare-cjs', 'fastcgi', 'http']
  let run: Awaited<ReturnType<typeof runCli>>
  let result: BenchResult

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`${missing.map((r) => r.name).join(', ')} missing: ${FETCH}`)
    const env = Object.fromEntries(found.map((r) => [`TSGI_${r.name.toUpperCase()}`, r.argv[0]!]))
    const args = ['bench', '--runtime', 'node,bun,deno', '--modes', modes.join(','), '--duration', '0.3']
    run = await runCli([...args, '--rounds', '1', '-c', '2', '--json'], env)
    result = JSON.parse(run.stdout) as BenchResult
  }, 120_000)

  it('exits 0 with the three runtimes and their versions', () => {
    expect(run.code, run.stderr).toBe(0)
    expect(result.runtimes.map((r) => r.name)).toEqual(['node', 'bun', 'deno'])
    for (const r of result.runtimes) expect(r.version).toMatch(/^v?\d+\.\d+\.\d+/)
  })

  it('has a row of each mode on each runtime, measured, answered by that runtime', () => {
    const expected = modes.flatMap((id) => ['node', 'bun', 'deno'].map((runtime) => [id, runtime]))
    expect(result.rows.map((r) => [r.id, r.runtime])).toEqual(expected)
    expect(result.rows.map((r) => r.name)).toContain('cgi build (bun)')
    expect(result.rows.map((r) => r.name)).toContain('fastcgi (deno)')
    for (const row of result.rows) {
      expect(row.skipped, row.name).toBeUndefined()
      expect(row.servedBy, row.name).toBe(row.runtime)
      expect(row.status, row.name).toBe('200')
      expect(row.errors, row.name).toBe(0)
      expect(row.single!.requests, row.name).toBeGreaterThanOrEqual(2)
      expect(row.single!.p50Us, row.name).toBeGreaterThan(0)
      expect(row.loaded!.rps, row.name).toBeGreaterThan(0)
      expect(row.cpuUs, row.name).toBeGreaterThan(0)
      expect(row.peakMB, row.name).toBeGreaterThan(5)
    }
  })

  it('gives the ratios the targets are read from: x bare, req/s x node, req/s x http', () => {
    const row = (id: string, runtime: string) => result.rows.find((r) => r.id === id && r.runtime === runtime)!
    for (const runtime of ['node', 'bun', 'deno']) {
      expect(row('cgi-build', runtime).vsBare).toBeGreaterThan(0)
      expect(row('fastcgi', runtime).vsNodeRps).toBeGreaterThan(0)
      expect(row('fastcgi', runtime).vsHttpRps).toBeGreaterThan(0)
      expect(row('http', runtime).vsHttpRps).toBe(1)
    }
    expect(row('bare-cjs', 'node').vsBare).toBe(1)
    expect(row('fastcgi', 'node').vsNodeRps).toBe(1)
    expect(
      result.notes.some((n) => /^cgi build \(bun\) \/ bare cjs on node: [\d.]+x \(target <= 0\.75x\)/.test(n)),
    ).toBe(true)
  })

  it('prints the runtime columns and versions in the table', () => {
    const lines = formatTable(result).split('\n')
    expect(lines[0]).toMatch(/node v?\d+\.\d+\.\d+, bun \d+\.\d+\.\d+, deno \d+\.\d+\.\d+/)
    expect(lines[2]).toMatch(/x bare +req\/s x node +req\/s x http$/)
    expect(lines.some((line) => /^fastcgi \(bun\) +\d+ /.test(line))).toBe(true)
  })
})
