// The CLI in-process: main(argv) with captured output. Usage errors, --help/--version, loading .js and
// .ts apps (default and --export), bad app modules, and `serve` serving until its signal stops it.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { Environ } from '../../src/app.js'
import { loadApp } from '../../src/cli/load.js'
import { main } from '../../src/cli/main.js'
import { callApp } from '../../src/core/call.js'
import { isTsgiError } from '../../src/errors.js'

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url))
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

async function run(argv: string[], signal?: AbortSignal): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  const code = await main(argv, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    cwd: fixtures,
    ...(signal ? { signal } : {}),
  })
  return { code, stdout, stderr }
}

/** Calls an app once with a minimal environ and returns its body as text. */
async function bodyOf(app: Awaited<ReturnType<typeof loadApp>>, path = '/'): Promise<string> {
  const environ = { REQUEST_METHOD: 'GET', PATH_INFO: path } as unknown as Environ
  let text = ''
  for await (const chunk of await callApp(app, environ, () => async () => {})) text += String(chunk)
  return text
}

describe('help and version', () => {
  it.each([['--help'], ['-h'], ['help'], ['serve', '--help']])(
    '%s prints the usage on stdout, exit 0',
    async (...argv) => {
      const { code, stdout, stderr } = await run(argv)
      expect(code).toBe(0)
      expect(stdout).toMatch(/^Usage: tsgi <command> APP/)
      expect(stdout).toContain('serve APP')
      expect(stderr).toBe('')
    },
  )

  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('no arguments: the usage on stderr, exit 1', async () => {
    const { code, stdout, stderr } = await run([])
    expect([code, stdout]).toEqual([1, ''])
    expect(stderr).toMatch(/^Usage: tsgi/)
  })
})

describe('bad usage: one `tsgi:` line plus the help hint, exit 1', () => {
  it.each([
    [['bogus'], 'tsgi: unknown command "bogus"'],
    [['--bogus'], 'tsgi: unknown option --bogus'],
    [['serve'], 'tsgi: serve needs an APP module path'],
    [['cgi'], 'tsgi: cgi needs an APP module path'],
    [['serve', 'app.js', 'extra.js'], 'tsgi: unexpected argument "extra.js"'],
    [['serve', 'app.js', '--port', 'abc'], 'tsgi: invalid --port "abc" (expected 0 to 65535)'],
    [['serve', 'app.js', '--port', '65536'], 'tsgi: invalid --port "65536" (expected 0 to 65535)'],
    [['serve', 'app.js', '--nope'], "tsgi: unknown option '--nope'"],
    [['serve', 'app.js', '--port'], "tsgi: option '--port <value>' argument missing"],
    [['cgi', 'app.js', '--port', '1'], "tsgi: unknown option '--port'"],
  ])('%j', async (argv, line) => {
    expect(await run(argv)).toEqual({ code: 1, stdout: '', stderr: `${line}\nRun \`tsgi --help\` for usage.\n` })
  })
})

describe('loading the app', () => {
  it('a .js module: the default export', async () => {
    expect(await bodyOf(await loadApp('app.js', { cwd: fixtures }), '/x')).toBe('js app at /x\n')
  })

  it('a .js module: --export picks a named object app', async () => {
    expect(await bodyOf(await loadApp('app.js', { cwd: fixtures, exportName: 'other' }))).toBe('the other app\n')
  })

  it('a .ts module loads through tsx, default and named (a class) exports', async () => {
    expect(await bodyOf(await loadApp('app.ts', { cwd: fixtures }), '/y')).toBe('ts app at /y\n')
    expect(await bodyOf(await loadApp(`${fixtures}app.ts`, { exportName: 'Named' }))).toBe('named class app\n')
  })

  it('a .ts module in a project whose package.json says "type": "commonjs" (npm init -y)', async () => {
    const app = await loadApp('cjs-project/app.ts', { cwd: fixtures })
    expect(await bodyOf(app, '/z')).toBe('cjs project at /z\n')
  })

  it.each([
    ['no-app.js', undefined, 'tsgi: no-app.js has no default export.\nIts exports: answer, helper.\n'],
    ['app.js', 'missing', 'tsgi: app.js has no export "missing".\nIts exports: default, other.\n'],
    ['not-app.js', undefined, 'tsgi: the default export of not-app.js is not an app: it is the string "just a string"'],
    ['no-app.js', 'answer', 'tsgi: export "answer" of no-app.js is not an app: it is a number'],
    [
      'esm-project/object.js',
      undefined,
      'the default export of esm-project/object.js is not an app: it is an object with keys port, host',
    ],
    ['nothere.js', undefined, `tsgi: app module not found: ${fixtures}nothere.js`],
  ])('%s (export %s): ERR_LOAD_APP saying what was found', async (path, exportName, message) => {
    const error = await loadApp(path, { cwd: fixtures, ...(exportName ? { exportName } : {}) }).catch((e: unknown) => e)
    expect(isTsgiError(error, 'ERR_LOAD_APP')).toBe(true)
    expect((error as Error).message).toContain(message)
  })

  it('only named exports: the message names them and gives the command that serves the app among them', async () => {
    const { code, stderr } = await run(['serve', 'esm-project/named.js'])
    expect(code).toBe(1)
    // The hint is the command that was run: `npx tsgi` from a project, the checkout's bin, or `tsgi`.
    expect(stderr).toMatch(/^tsgi: esm-project\/named\.js has no default export\.\nIts exports: handler, version\.\n/)
    expect(stderr).toMatch(/\nTo serve it: (npx )?tsgi serve esm-project\/named\.js --export handler\n/)
    expect(await bodyOf(await loadApp('esm-project/named.js', { cwd: fixtures, exportName: 'handler' }))).toBe(
      'named\n',
    )
  })

  it.each([
    ['esm-project/syntax.js', "Unexpected token '}'"],
    ['esm-project/syntax.ts', 'Expected "]" but found "}"'],
  ])('a syntax error in %s shows file:line:column and the line, not the loader', async (path, why) => {
    const { code, stderr } = await run(['serve', path])
    expect(code).toBe(1)
    const [first, line, caret, ...rest] = stderr.split('\n')
    expect(first).toMatch(new RegExp(`^tsgi: syntax error in ${fixtures}${path}:\\d+:\\d+: `))
    expect(first).toContain(why)
    expect(line).toMatch(/^ {2}\d+ \| /)
    expect(caret).toMatch(/^ {2} +\| +\^$/)
    expect(rest.join('\n')).not.toMatch(/node:internal|esbuild|tsx/)
  })

  it("an app that throws while loading: its message and its own frames, not Node's or tsgi's", async () => {
    const { code, stderr } = await run(['serve', 'esm-project/throws.js'])
    expect(code).toBe(1)
    const lines = stderr.trimEnd().split('\n')
    expect(lines[0]).toBe(`tsgi: cannot load ${fixtures}esm-project/throws.js: no DATABASE_URL in the environment`)
    expect(lines.slice(1).length).toBeGreaterThan(0)
    for (const frame of lines.slice(1)) expect(frame).toMatch(/^\s+at .*esm-project\/throws-dep\.js:\d+:\d+\)?$/)
  })

  it('main reports a load failure in one message, exit 1', async () => {
    const { code, stderr } = await run(['serve', 'broken.js', '--port', '0'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/^tsgi: cannot load .*broken\.js: fixture failed to initialise\n\s+at .*broken\.js:2:7/)
  })
})

describe('commands', () => {
  it('serve: serves the app until the signal, then exits 0', async () => {
    const controller = new AbortController()
    let stdout = ''
    let stderr = ''
    let listening: (url: string) => void = () => {}
    const url = new Promise<string>((resolve) => (listening = resolve))
    const exit = main(['serve', 'app.ts', '--port', '0', '--host', '127.0.0.1'], {
      stdout: (text) => {
        stdout += text
        const found = /http:\/\/\S+/.exec(text)
        if (found) listening(found[0])
      },
      stderr: (text) => (stderr += text),
      cwd: fixtures,
      signal: controller.signal,
    })
    const res = await fetch(new URL('/hi', await url))
    expect(await res.text()).toBe('ts app at /hi\n')
    controller.abort()
    expect(await exit).toBe(0)
    expect(stdout).toMatch(/^tsgi: serving app\.ts on http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C to stop\)\n$/)
    expect(stderr).toMatch(/"GET \/hi HTTP\/1\.1" 200 /)
  })

  it('serve: a busy port is reported, exit 1', async () => {
    const { serve } = await import('../../src/gateways/http/index.js')
    const busy = await serve(await loadApp('app.js', { cwd: fixtures }), { port: 0, log: false })
    try {
      const { code, stderr } = await run(['serve', 'app.js', '--port', String(busy.port)])
      expect(code).toBe(1)
      expect(stderr).toBe(`server: cannot listen on 127.0.0.1:${busy.port}: EADDRINUSE\n`)
    } finally {
      await busy.close()
    }
  })

  it('fastcgi: without --listen, outside a web server and without a listening fd 0, says what to pass', async () => {
    const { code, stderr } = await run(['fastcgi', 'app.js'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/fd 0 is not a listening socket and this is no CGI request: pass --listen/)
  })

  it('fastcgi: refuses a public address without --public', async () => {
    const { code, stderr } = await run(['fastcgi', 'app.js', '--listen', '0.0.0.0:0', '--allow-root'])
    expect(code).toBe(1)
    expect(stderr).toMatch(/refusing to listen on public address 0\.0\.0\.0/)
  })

  it('fastcgi: serves over TCP until its signal stops it, then exits 0', async () => {
    const stop = new AbortController()
    let stderr = ''
    const running = main(['fastcgi', 'app.js', '--listen', '127.0.0.1:0', '--allow-root'], {
      stdout: () => {},
      stderr: (text) => {
        stderr += text
        if (text.includes('FastCGI responder on')) stop.abort()
      },
      cwd: fixtures,
      signal: stop.signal,
    })
    expect(await running).toBe(0)
    expect(stderr).toMatch(/^tsgi: FastCGI responder on 127\.0\.0\.1:\d+ \(pid \d+\)$/m)
  })
})
