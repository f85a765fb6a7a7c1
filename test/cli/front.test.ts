// `tsgi front` on the command line: it says where it listens, serves until stopped, refuses bad options.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'

const dir = mkdtempSync(join(tmpdir(), 'tsgi-cli-front-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

async function run(argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const collect = (text: string): void => {
    stderr += text
  }
  const code = await main(argv, { stdout: () => {}, stderr: collect, cwd: dir })
  return { code, stderr }
}

it('serves --cgi-bin until stopped, printing its URL', async () => {
  writeFileSync(join(dir, 'hi'), '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nhi from $SCRIPT_NAME $GREETING"\n')
  chmodSync(join(dir, 'hi'), 0o755)
  const controller = new AbortController()
  let stderr = ''
  let listening: (url: string) => void = () => {}
  const url = new Promise<string>((resolve) => (listening = resolve))
  const done = main(['front', '--cgi-bin', '.', '--port', '0', '--env', 'GREETING=hej', '--quiet'], {
    stdout: () => {},
    cwd: dir,
    signal: controller.signal,
    stderr: (text) => {
      stderr += text
      const match = /tsgi front: (http:\S+)/.exec(stderr)
      if (match) listening(match[1]!)
    },
  })
  const response = await fetch(new URL('cgi-bin/hi', await url))
  expect(await response.text()).toBe('hi from /cgi-bin/hi hej')
  expect(stderr).not.toContain('GET /cgi-bin/hi') // --quiet: no access log
  controller.abort()
  expect(await done).toBe(0)
})

it.each([
  [['front'], 'front needs --cgi-bin DIR or --fastcgi PREFIX=ADDR'],
  [['front', 'app.ts'], 'front takes no APP'],
  [['front', '--cgi-bin', 'missing'], '--cgi-bin missing: no such directory'],
  [['front', '--fastcgi', '127.0.0.1:9000'], '--fastcgi takes PREFIX=ADDR'],
  [['front', '--cgi-bin', '.', '--env', 'NOVALUE'], '--env takes NAME=VALUE'],
  [['front', '--fastcgi', '/fcgi=127.0.0.1:9000', '--cgi-timeout', 'soon'], '--cgi-timeout takes seconds'],
])('%j: %s', async (argv, message) => {
  const { code, stderr } = await run(argv)
  expect(code).toBe(1)
  expect(stderr).toContain(message)
})
