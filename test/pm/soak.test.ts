// `npm run soak` as CI runs it (60 s; 15 s elsewhere, TSGI_SOAK_SECONDS to choose): mixed load on a pool
// of two workers, and nothing lost, no worker dead, descriptors and RSS back where they were.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { ROOT } from '../integration/_harness.js'

const SECONDS = Number(process.env.TSGI_SOAK_SECONDS ?? (process.env.CI ? 60 : 15))

it(`npm run soak -- --duration ${SECONDS}: passes`, { timeout: (SECONDS + 60) * 1000 }, async () => {
  const run = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'scripts/soak.ts'), '--duration', String(SECONDS)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  run.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  run.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await new Promise<number | null>((resolve) => run.once('exit', resolve))
  const report = output.indexOf('\nsoak:')
  console.log(report === -1 ? output.slice(-3000) : output.slice(report))
  expect(code, output.slice(-3000)).toBe(0)
  expect(output).toMatch(/soak: \d+ s, 8 clients, \d+ requests, 0 lost/)
  expect(output).toContain('soak: passed')
})
