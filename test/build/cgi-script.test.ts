// `tsgi build`: a user's app (TypeScript or JavaScript, CommonJS or ESM project) becomes one executable
// CGI script that runs on its own; what would fail silently under a web server fails at build time.
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { buildCgiScript } from '../../src/build/cgi-script.js'
import { isTsgiError } from '../../src/errors.js'

const fixtures = fileURLToPath(new URL('../cli/fixtures/', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'tsgi-build-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

const GET = { REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1', SCRIPT_NAME: '/cgi-bin/app', PATH_INFO: '/p' }

/** Runs a script as a web server would: executed directly (its shebang), a clean CGI environment. */
function cgi(
  script: string,
  env: Record<string, string> = GET,
): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(script, [], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, encoding: 'utf8' })
  return { status: run.status, stdout: run.stdout, stderr: run.stderr }
}

describe('tsgi build', () => {
  it('a TypeScript app of a "type": "commonjs" project: one executable CommonJS file that runs anywhere', async () => {
    const out = join(scratch, 'cgi-bin', 'app')
    const result = await buildCgiScript({ app: 'cjs-project/app.ts', out, cwd: fixtures })
    expect([result.format, result.notes]).toEqual(['cjs', []])
    expect(statSync(out).mode & 0o777).toBe(0o755)
    expect(readFileSync(out, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node')
    // Alone in a directory with no node_modules anywhere above: the file needs nothing else.
    const alone = join(mkdtempSync(join(tmpdir(), 'tsgi-alone-')), 'app')
    copyFileSync(out, alone)
    const { status, stdout } = cgi(alone)
    rmSync(dirname(alone), { recursive: true, force: true })
    expect(status).toBe(0)
    expect(stdout).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\ncjs project at /p\n')
  })

  it('into a "type": "module" package: an ES module file, and a note saying how to get the fastest form', async () => {
    const dir = join(scratch, 'esm-package')
    mkdirSync(join(dir, 'cgi-bin'), { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n')
    const result = await buildCgiScript({ app: join(fixtures, 'app.js'), out: join(dir, 'cgi-bin', 'app'), cwd: dir })
    expect(result.format).toBe('esm')
    expect(result.notes.join('\n')).toContain('put {"type": "commonjs"} in cgi-bin/package.json')
    expect(cgi(join(dir, 'cgi-bin', 'app')).stdout).toContain('\r\n\r\njs app at /p\n')
  })

  it('the CGI adapter runs before the app: a Proxy header never reaches the app as HTTP_PROXY (httpoxy, S-01)', async () => {
    const app = join(scratch, 'proxy-app.mjs')
    writeFileSync(
      app,
      'const seen = String(process.env.HTTP_PROXY)\n' +
        "export default (environ, start) => { start('200 OK', []); return [seen] }\n",
    )
    const out = join(scratch, 'proxy')
    await buildCgiScript({ app, out })
    expect(cgi(out, { ...GET, HTTP_PROXY: 'http://evil.example:8080' }).stdout).toMatch(/\r\n\r\nundefined$/)
  })

  it('a missing export fails the build, naming the exports and the one to pick; nothing is written', async () => {
    const out = join(scratch, 'named')
    const error = await buildCgiScript({ app: 'esm-project/named.js', out, cwd: fixtures }).catch((e: unknown) => e)
    expect(isTsgiError(error, 'ERR_BUILD')).toBe(true)
    expect((error as Error).message).toBe(
      'tsgi build: esm-project/named.js has no default export (its exports: handler, version); pick one with --export handler',
    )
    expect(existsSync(out)).toBe(false)
    await buildCgiScript({ app: 'esm-project/named.js', out, cwd: fixtures, exportName: 'handler' })
    expect(cgi(out).stdout).toMatch(/\r\n\r\nnamed\n$/)
  })

  it.each([
    ['esm-project/syntax.ts', /^esm-project\/syntax\.ts:4:1: Expected "\]" but found "\}"\n {2}4 \| \}\n {4}\| \^$/m],
    ['unresolved.mjs', /^unresolved\.mjs:1:\d+: Could not resolve "no-such-package-tsgi"\n {2}1 \| import/m],
  ])('%s does not bundle: the error shows file:line:column and the line', async (app, shape) => {
    writeFileSync(join(scratch, 'unresolved.mjs'), "import x from 'no-such-package-tsgi'\nexport default x\n")
    const cwd = app.startsWith('esm-project') ? fixtures : scratch
    const error = await buildCgiScript({ app, out: join(scratch, 'never'), cwd }).catch((e: unknown) => e)
    expect(isTsgiError(error, 'ERR_BUILD')).toBe(true)
    expect((error as Error).message).toMatch(/^tsgi build: the app does not bundle:\n/)
    expect((error as Error).message).toMatch(shape)
  })

  it('an export that is not an app still answers: a 500, the reason on stderr, exit 1', async () => {
    const out = join(scratch, 'object')
    await buildCgiScript({ app: 'esm-project/object.js', out, cwd: fixtures })
    const { status, stdout, stderr } = cgi(out)
    expect(status).toBe(1)
    expect(stdout).toMatch(/^Status: 500 Internal Server Error\r\n/)
    expect(stderr).toMatch(/^cgi: the default export of object\.js is not an app \(got object\): an app is a TSGI app /)
  })
})
