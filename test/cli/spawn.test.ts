// The CLI as a real process: bin/tsgi.js (dist/ when built, else the sources through tsx) serving until
// SIGTERM, answering one CGI request, and src/cli/main.ts run directly as a script (`npm run dev`).
// Children get a clean environment: NODE_EXTRA_CA_CERTS triples node's start-up here.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = `${root}bin/tsgi.js`
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version
const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin' }

let child: ChildProcess | undefined
afterEach(() => {
  if (child?.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
})

interface Finished {
  code: number | null
  stdout: string
  stderr: string
}

function run(args: string[], env: Record<string, string> = {}, stdin = ''): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, { cwd: root, env: { ...cleanEnv, ...env } })
    child = proc
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    proc.on('error', reject)
    proc.on('close', (code) => resolve({ code, stdout, stderr }))
    proc.stdin.end(stdin)
  })
}

describe('bin/tsgi.js', () => {
  it('is executable, and its shebang starts node with a capped young generation', async () => {
    expect(statSync(bin).mode & 0o755).toBe(0o755)
    expect(readFileSync(bin, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env -S node --max-semi-space-size=2')
    // Run through the shebang itself (env -S), not through process.execPath.
    const direct = spawnSync(bin, ['--version'], {
      env: { ...cleanEnv, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
    })
    expect([direct.status, direct.stdout.toString()]).toEqual([0, `${version}\n`])
  })

  it('--version', async () => {
    const { code, stdout } = await run([bin, '--version'])
    expect([code, stdout]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+\n$/)])
  })

  it('serve: listens, serves, and exits 0 on SIGTERM', async () => {
    const proc = spawn(process.execPath, [bin, 'serve', 'examples/hello.ts', '--port', '0'], {
      cwd: root,
      env: cleanEnv,
    })
    child = proc
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = ''
      proc.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const found = /http:\/\/\S+/.exec(stdout)
        if (found) resolve(found[0])
      })
      proc.on('close', (code) => reject(new Error(`exited ${code} before listening: ${stderr}`)))
    })
    const res = await fetch(url)
    expect(await res.text()).toBe('Hello world!\n')
    const exited = new Promise<number | null>((resolve) => proc.on('close', resolve))
    proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(stderr).toMatch(/"GET \/ HTTP\/1\.1" 200 13 /)
  })

  it('cgi: answers one request from the environment and stdin', async () => {
    const { code, stdout } = await run(
      [bin, 'cgi', 'examples/echo.ts', 'isindex-word'],
      { REQUEST_METHOD: 'POST', CONTENT_LENGTH: '5', SERVER_PROTOCOL: 'HTTP/1.1', PATH_INFO: '/p', QUERY_STRING: 'q' },
      'hello',
    )
    const body =
      'method: POST\npath: /p\nquery: q\nlength: 5\n' +
      'sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n'
    expect(code).toBe(0)
    expect(stdout).toBe(
      `Status: 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    )
  })
})

describe("the app's stack traces", () => {
  // tsx's ESM loader runs a CommonJS .ts file from a data: URL: every frame was that URL, not the file.
  it.each(['cjs-project', 'esm-project'])('a .ts app in a %s: frames name the file, line and column', async (dir) => {
    const { code, stdout, stderr } = await run([bin, 'cgi', `test/cli/fixtures/${dir}/fails.ts`], {
      REQUEST_METHOD: 'GET',
      SERVER_PROTOCOL: 'HTTP/1.1',
      TSGI_FROM_SOURCE: '1',
    })
    expect(code).toBe(0)
    expect(stdout).toMatch(/^Status: 500 /)
    expect(stderr).toContain(`${root}test/cli/fixtures/${dir}/fails.ts:6:9`)
    expect(stderr).not.toContain('data:text/javascript')
  })
})

describe('hints are commands that run', () => {
  it('`tsgi cgi APP` run by hand says how to try it, and that command answers a request', async () => {
    const { code, stderr } = await run([bin, 'cgi', 'examples/hello.ts'])
    expect(code).toBe(2)
    const hint = /to try it: (.*)$/m.exec(stderr)?.[1]
    expect(hint).toBe('REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 ./bin/tsgi.js cgi examples/hello.ts')
    const tried = spawnSync('sh', ['-c', hint!], { cwd: root, env: cleanEnv, encoding: 'utf8' })
    expect([tried.status, tried.stdout]).toEqual([
      0,
      expect.stringMatching(/^Status: 200 OK\r\n[\s\S]*Hello world!\n$/),
    ])
  })

  it('`tsgi build` prints the command that tries the script, and it answers', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tsgi-build-hint-')), 'hello')
    const { code, stdout } = await run([bin, 'build', 'examples/hello.ts', '--out', out])
    expect(code).toBe(0)
    const hint = /^To try it: (.*)$/m.exec(stdout)?.[1]
    expect(hint).toBe(`REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 ${out}`)
    const tried = spawnSync('sh', ['-c', hint!], { cwd: root, env: cleanEnv, encoding: 'utf8' })
    rmSync(dirname(out), { recursive: true, force: true })
    expect([tried.status, tried.stdout]).toEqual([0, expect.stringMatching(/Hello world!\n$/)])
  })
})

describe('src/cli/main.ts as a script', () => {
  it('runs main() when it is the entry module', async () => {
    const { code, stdout } = await run(['--import', 'tsx', 'src/cli/main.ts', '--version'])
    expect([code, stdout]).toEqual([0, expect.stringMatching(/^\d+\.\d+\.\d+\n$/)])
  })

  it('exits 1 on bad usage', async () => {
    const { code, stderr } = await run(['--import', 'tsx', 'src/cli/main.ts', 'serve'])
    expect([code, stderr]).toEqual([1, 'tsgi: serve needs an APP module path\nRun `tsgi --help` for usage.\n'])
  })
})
