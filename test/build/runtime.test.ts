// `tsgi build --runtime bun|deno`: a CGI script whose shebang names that runtime, run as a web server runs
// it (its own PATH, the CGI variables in the environment, the body on stdin): it answers on Bun and Deno.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { ROOT } from '../_bundles.js'
import { findRuntimes } from '../_runtimes.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-build-runtime-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const { found, missing } = findRuntimes()
const REQUIRED = process.env.TSGI_REQUIRE_SERVERS === '1'

async function build(runtime: string, out: string): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const code = await main(['build', join(ROOT, 'examples/echo.ts'), '--out', out, '--runtime', runtime], {
    stdout: () => {},
    stderr: (text) => (stderr += text),
    cwd: dir,
  })
  return { code, stderr }
}

describe('tsgi build --runtime', () => {
  for (const runtime of [...found, ...(REQUIRED ? missing : [])]) {
    const name = runtime.name.toLowerCase()
    it(`${name}: the shebang names it, and the script answers a POST as a CGI script`, async () => {
      const out = join(dir, `echo-${name}`)
      expect(await build(name, out)).toEqual({ code: 0, stderr: '' })
      const shebang = readFileSync(out, 'utf8').split('\n')[0]
      expect(shebang).toBe(name === 'bun' ? '#!/usr/bin/env bun' : '#!/usr/bin/env -S deno run -A --no-prompt --quiet')
      // The web server's PATH with the runtime's directory on it, as an operator installs it.
      const run = spawnSync(out, [], {
        input: 'hello from stdin',
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: `${dirname(runtime.argv[0]!)}:/usr/bin:/bin`,
          HOME: dir,
          GATEWAY_INTERFACE: 'CGI/1.1',
          REQUEST_METHOD: 'POST',
          CONTENT_LENGTH: '16',
          CONTENT_TYPE: 'text/plain',
          SCRIPT_NAME: '/cgi-bin/echo',
          PATH_INFO: '',
          QUERY_STRING: '',
          SERVER_NAME: 'localhost',
          SERVER_PORT: '80',
          SERVER_PROTOCOL: 'HTTP/1.1',
        },
      })
      expect(run.stderr).toBe('')
      expect(run.status).toBe(0)
      expect(run.stdout).toMatch(/^Status: 200 OK\r?\n/)
      expect(run.stdout).toContain('length: 16')
    })
  }

  for (const runtime of found.filter((r) => r.name === 'Bun')) {
    it('bun: a web server that stops reading (client gone) ends the script quietly with exit 0', async () => {
      // 13 MiB in 64 KiB chunks: far more than a pipe holds, so writes meet the closed end (EPIPE).
      const app = join(dir, 'big.ts')
      writeFileSync(
        app,
        `export default (environ: unknown, start: (s: string, h: [string, string][]) => void) => {
          start('200 OK', [['Content-Type', 'application/octet-stream']])
          const chunk = new Uint8Array(64 * 1024).fill(65)
          return (function* () { for (let i = 0; i < 200; i++) yield chunk })()
        }\n`,
      )
      const out = join(dir, 'big-bun')
      const io = { stdout: () => {}, stderr: () => {}, cwd: dir }
      expect(await main(['build', app, '--out', out, '--runtime', 'bun'], io)).toBe(0)
      // `head` reads the first bytes and leaves, as a web server stops reading when its client has gone.
      const env = `PATH=${dirname(runtime.argv[0]!)}:/usr/bin:/bin REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1`
      const line = `set -o pipefail; env -i ${env} "${out}" 2>"${out}.err" | head -c 100 >/dev/null`
      const run = spawnSync('/bin/bash', ['-c', line], { encoding: 'utf8', timeout: 30_000 })
      expect(readFileSync(`${out}.err`, 'utf8')).toBe('')
      expect(run.status).toBe(0)
    })
  }

  it('a runtime it does not know, or --node with bun, is a usage error', async () => {
    expect((await build('python', join(dir, 'x'))).stderr).toMatch(/--runtime is node, bun or deno, got "python"/)
    let stderr = ''
    const args = [
      'build',
      join(ROOT, 'examples/echo.ts'),
      '--out',
      join(dir, 'y'),
      '--runtime',
      'bun',
      '--node',
      '/usr/bin/node',
    ]
    expect(await main(args, { stdout: () => {}, stderr: (t) => (stderr += t), cwd: dir })).toBe(1)
    expect(stderr).toMatch(/--node is for --runtime node/)
  })
})
