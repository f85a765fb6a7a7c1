// The compile cache of TypeScript CGI scripts (bin/tsgi-cgi.cjs, src/build/source-script.ts and cache.ts), with
// real processes and real esbuild: scripts are executed as Apache runs them (the file itself, its shebang
// `#!/usr/bin/env tsgi-cgi` found on PATH, a CGI environment and nothing else).
import { spawn, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
const bin = join(root, 'bin', 'tsgi-cgi.cjs')
// Inside the repository (.tmp/ is ignored by git): a script there resolves hono from node_modules.
mkdirSync(join(root, '.tmp'), { recursive: true })
const scratch = mkdtempSync(join(root, '.tmp', 'cache-test-'))
chmodSync(scratch, 0o755) // the test run as another user (nobody) enters it
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

// A PATH with `tsgi-cgi` on it, as `npm install -g` or node_modules/.bin gives it.
const pathDir = join(scratch, 'path')
mkdirSync(pathDir)
symlinkSync(bin, join(pathDir, 'tsgi-cgi'))
const PATH = `${pathDir}:${process.env.PATH ?? '/usr/bin:/bin'}`
const CGI = { REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1', SCRIPT_NAME: '/cgi-bin/hello', PATH_INFO: '' }

let count = 0
/** A directory of its own per test: a script, its cache. */
function place(): { dir: string; cache: string; env: Record<string, string> } {
  const dir = join(scratch, `t${++count}`)
  mkdirSync(dir, { mode: 0o755 })
  const cache = join(dir, 'cache')
  return { dir, cache, env: { PATH, ...CGI, TSGI_CACHE_DIR: cache, TSGI_CACHE_DEBUG: '1' } }
}

function script(path: string, body: string, first = '#!/usr/bin/env tsgi-cgi'): string {
  writeFileSync(path, `${first}\n${body}`, { mode: 0o755 })
  return path
}

/** A TypeScript app answering `text` (type annotations: it is compiled, not run as JavaScript). */
function hello(text: string): string {
  return (
    `const text: string = ${JSON.stringify(text)}\n` +
    'export default function app(_environ: unknown, start: (s: string, h: [string, string][]) => void): string[] {\n' +
    "  start('200 OK', [['Content-Type', 'text/plain']])\n  return [text]\n}\n"
  )
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

function run(file: string, env: Record<string, string>, options: { uid?: number; gid?: number } = {}): Run {
  const child = spawnSync(file, [], { env, encoding: 'utf8', ...options })
  return { status: child.status, stdout: child.stdout, stderr: child.stderr }
}

function body(result: Run): string {
  return result.stdout.slice(result.stdout.indexOf('\r\n\r\n') + 4)
}

function entries(cache: string): string[] {
  return readdirSync(cache).sort()
}

describe('a cached bundle runs as the script, not from the cache directory (S-24)', () => {
  it('__dirname and unbundled require() resolve from the script directory on every request', () => {
    const { dir, cache, env } = place()
    // A module planted beside the cache (think /tmp/node_modules) must never answer; the script's own may.
    for (const [where, who] of [
      [join(dir, 'node_modules', 'optional-x'), 'script'],
      [join(cache, '..', 'planted', 'node_modules', 'optional-x'), 'planted'],
    ] as const) {
      mkdirSync(where, { recursive: true })
      writeFileSync(join(where, 'index.js'), `module.exports = ${JSON.stringify(who)}\n`)
    }
    const app =
      'declare const __dirname: string\ndeclare const require: (name: string) => unknown\n' +
      "const name = ['optional', 'x'].join('-')\n" +
      'export default function app(_e: unknown, start: (s: string, h: [string, string][]) => void): string[] {\n' +
      "  start('200 OK', [['Content-Type', 'text/plain']])\n  return [__dirname + '|' + String(require(name))]\n}\n"
    const plantedCache = join(cache, '..', 'planted', 'cache')
    const file = script(join(dir, 'where.ts'), app)
    const first = run(file, { ...env, TSGI_CACHE_DIR: plantedCache })
    const cached = run(file, { ...env, TSGI_CACHE_DIR: plantedCache })
    expect(cached.stderr).toContain('cache hit')
    for (const result of [first, cached]) expect(body(result)).toBe(`${dir}|script`)
  })
})

describe('a TypeScript CGI script run from its source', () => {
  it('compiles on the first request and answers; later requests use the cache entry unchanged', () => {
    const { dir, cache, env } = place()
    const file = script(join(dir, 'hello'), hello('Hello world!\n'))
    const first = run(file, env)
    expect(first.status).toBe(0)
    expect(first.stdout).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello world!\n')
    expect(first.stderr).toMatch(/^tsgi-cgi: cache miss for .*hello \(no cache directory .*\); compiled in \d+ ms: /)
    const files = entries(cache)
    expect(files).toEqual([
      expect.stringMatching(/^[0-9a-f]{16}-[0-9a-f]{16}\.cjs$/),
      expect.stringMatching(/\.cjs\.map$/),
      expect.stringMatching(/^[0-9a-f]{16}\.json$/),
    ])
    expect(statSync(cache).mode & 0o777).toBe(0o700)
    const stamps = files.map((name) => statSync(join(cache, name)).mtimeMs)
    for (let i = 0; i < 2; i++) {
      const again = run(file, env)
      expect([again.status, again.stdout]).toEqual([0, first.stdout])
      expect(again.stderr).toBe(`tsgi-cgi: cache hit ${join(cache, files[0]!)}\n`)
    }
    expect(files.map((name) => statSync(join(cache, name)).mtimeMs)).toEqual(stamps)
  })

  it('an edit of the same size, its mtime put back, within the same second, is recompiled (ctime, content)', () => {
    const { dir, env } = place()
    const file = script(join(dir, 'hello.ts'), hello('version A\n'))
    expect(body(run(file, env))).toBe('version A\n')
    const { atime, mtime } = statSync(file)
    script(file, hello('version B\n'))
    utimesSync(file, atime, mtime)
    const edited = run(file, env)
    expect(body(edited)).toBe('version B\n')
    expect(edited.stderr).toMatch(/cache miss for .*hello\.ts \(.*hello\.ts changed\); compiled/)
    expect(run(file, env).stderr).toMatch(/^tsgi-cgi: cache hit /)
  })

  it('a touch without an edit keeps the entry: the content hash matches, the stats are refreshed', () => {
    const { dir, env } = place()
    const file = script(join(dir, 'hello'), hello('same\n'))
    run(file, env)
    const later = new Date(Date.now() + 5000)
    utimesSync(file, later, later)
    const touched = run(file, env)
    expect(body(touched)).toBe('same\n')
    expect(touched.stderr).toMatch(/its inputs have the content it was compiled from/)
    expect(run(file, env).stderr).toMatch(/^tsgi-cgi: cache hit /)
  })

  it('an edit of a tsconfig the nearest one extends (paths) is recompiled', () => {
    const { dir, env } = place()
    for (const name of ['a', 'b']) writeFileSync(join(dir, `${name}.ts`), `export const v = '${name.toUpperCase()}'\n`)
    writeFileSync(join(dir, 'tsconfig.json'), '{ "extends": "./base" }\n')
    const base = (to: string): string => JSON.stringify({ compilerOptions: { baseUrl: '.', paths: { '@x': [to] } } })
    writeFileSync(join(dir, 'base.json'), base('./a.ts'))
    const app = hello('').replace('const text: string = ""', "import { v } from '@x'\nconst text: string = v")
    const file = script(join(dir, 'mapped.ts'), app)
    expect(body(run(file, env))).toBe('A')
    writeFileSync(join(dir, 'base.json'), base('./b.ts'))
    const edited = run(file, env)
    expect(body(edited)).toBe('B')
    expect(edited.stderr).toMatch(/base\.json changed\); compiled/)
  })

  it('an edited module that the script imports is recompiled', () => {
    const { dir, env } = place()
    writeFileSync(join(dir, 'greeting.ts'), "export const greeting: string = 'hi'\n")
    const file = script(
      join(dir, 'hello'),
      "import { greeting } from './greeting.js'\n" +
        "export default (_e: unknown, start: (s: string, h: []) => void) => { start('200 OK', []); return [greeting] }\n",
    )
    expect(body(run(file, env))).toBe('hi')
    writeFileSync(join(dir, 'greeting.ts'), "export const greeting: string = 'yo'\n")
    const edited = run(file, env)
    expect(body(edited)).toBe('yo')
    expect(edited.stderr).toMatch(/greeting\.ts changed\); compiled/)
  })

  it('a syntax error: a 500 that hides the detail, file:line:column on stderr, nothing cached', () => {
    const { dir, cache, env } = place()
    const file = script(join(dir, 'broken'), 'const x: number = ;\nexport default x\n')
    const broken = run(file, env)
    expect(broken.status).toBe(0) // the 500 was delivered (C-20)
    expect(broken.stdout).toBe(
      'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInternal Server Error\n',
    )
    expect(broken.stderr).toContain(`tsgi-cgi: the app does not bundle:\n${file}:2:19: Unexpected ";"\n  2 | const x`)
    expect(entries(cache).filter((name) => name.endsWith('.json'))).toEqual([])
    script(file, hello('fixed\n'))
    expect(body(run(file, env))).toBe('fixed\n')
  })

  it('no such script, or a bad option: a 500, and stderr says which', () => {
    const { dir, env } = place()
    const gone = spawnSync(process.execPath, [bin, join(dir, 'nothing')], { env, encoding: 'utf8' })
    expect([gone.status, gone.stdout]).toEqual([0, expect.stringMatching(/^Status: 500 /)])
    expect(gone.stderr).toBe(`tsgi-cgi: no such script: ${join(dir, 'nothing')}\n`)
    const bad = spawnSync(process.execPath, [bin, '--shape', 'odd', join(dir, 'x')], { env, encoding: 'utf8' })
    expect(bad.stderr).toMatch(/^tsgi-cgi: unknown option or value: --shape odd .*\nusage: tsgi-cgi /)
  })

  it('a missing export: a 500, and stderr names the exports and the shebang line that picks one', () => {
    const { dir, env } = place()
    const file = script(
      join(dir, 'named.ts'),
      hello('named\n').replace('export default function app', 'export function app'),
    )
    const missing = run(file, env)
    expect(missing.stdout).toMatch(/^Status: 500 /)
    expect(missing.stderr).toContain(
      `has no default export (its exports: app); to build it: start ${file} with #!/usr/bin/env -S tsgi-cgi --export app`,
    )
    script(
      file,
      hello('named\n').replace('export default function app', 'export function app'),
      '#!/usr/bin/env -S tsgi-cgi --export app',
    )
    expect(body(run(file, env))).toBe('named\n')
  })

  it('the app never sees a Proxy header as HTTP_PROXY, compiled or cached; environ has it (httpoxy, S-01)', () => {
    const { dir, env } = place()
    const file = script(
      join(dir, 'proxy'),
      'const seen = String(process.env.HTTP_PROXY)\n' +
        "export default (environ: Record<string, unknown>, start: (s: string, h: []) => void) => { start('200 OK', []); return [seen + ' ' + environ.HTTP_PROXY] }\n",
    )
    for (let i = 0; i < 2; i++)
      expect(body(run(file, { ...env, HTTP_PROXY: 'http://evil:8080' }))).toBe('undefined http://evil:8080')
  })

  it('a Hono app, told by its shape, below SCRIPT_NAME (--strip-script-name); its errors name the sources', () => {
    const { dir, env } = place()
    const file = script(
      join(dir, 'hono'),
      "import { Hono } from 'hono'\nconst app = new Hono()\napp.get('/', (c) => c.text('from hono'))\n" +
        "app.get('/fail', () => { throw new Error('boom') })\nexport default app\n",
      '#!/usr/bin/env -S tsgi-cgi --strip-script-name',
    )
    for (let i = 0; i < 2; i++) expect(body(run(file, env))).toBe('from hono')
    const failed = run(file, { ...env, PATH_INFO: '/fail' })
    expect(failed.stdout).toMatch(/^Status: 500 /)
    expect(failed.stderr).toContain(`${file}:5:32`) // line 1 is the shebang
  })

  it('eight first requests at once all answer; the cache holds one entry and no temporary file', async () => {
    const { dir, cache, env } = place()
    const file = script(join(dir, 'hello'), hello('together\n'))
    const runs = Array.from({ length: 8 }, () => {
      const child = spawn(file, [], { env })
      let stdout = ''
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
      })
      return new Promise<string>((done) => child.on('close', () => done(stdout)))
    })
    for (const stdout of await Promise.all(runs)) expect(stdout).toMatch(/\r\n\r\ntogether\n$/)
    const files = entries(cache)
    expect(files.map((name) => name.replace(/^[0-9a-f-]+/, ''))).toEqual(['.cjs', '.cjs.map', '.json'])
    expect(run(file, env).stderr).toMatch(/^tsgi-cgi: cache hit /)
  })
})

describe('a cache that cannot be used: one line on stderr, and the request is still answered (S-24)', () => {
  function refused(prepare: (cache: string) => void, why: RegExp): void {
    const { dir, cache, env } = place()
    prepare(cache)
    const file = script(join(dir, 'hello'), hello('anyway\n'))
    const { TSGI_CACHE_DEBUG: _, ...quiet } = env
    for (let i = 0; i < 2; i++) {
      const result = run(file, quiet)
      expect([result.status, body(result)]).toEqual([0, 'anyway\n'])
      const lines = result.stderr.split('\n').filter(Boolean)
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(new RegExp(`^tsgi-cgi: not using the compile cache ${cache}: it ${why.source}`))
      expect(lines[0]).toMatch(
        /in memory on every request \(slower\)\. To fix: .*set TSGI_CACHE_DIR to a directory of uid \d+'s own/,
      )
    }
  }

  it('writable by group or others', () => {
    refused((cache) => {
      mkdirSync(cache)
      chmodSync(cache, 0o777)
    }, /is writable by group or others \(mode 0777\)/)
  })

  it.runIf(process.geteuid?.() === 0)('owned by another user', () => {
    refused((cache) => {
      mkdirSync(cache, { mode: 0o700 })
      chownSync(cache, 65534, 65534)
    }, /is owned by uid 65534, not by this process's uid 0/)
  })

  it('a symbolic link, even to a directory of ours', () => {
    refused((cache) => {
      mkdirSync(`${cache}-real`, { mode: 0o700 })
      symlinkSync(`${cache}-real`, cache)
    }, /is a symbolic link/)
  })

  it('one that cannot be created', () => {
    refused((cache) => writeFileSync(cache, ''), /is not a directory/)
    const { dir, env } = place()
    writeFileSync(join(dir, 'file'), '')
    const file = script(join(dir, 'hello'), hello('anyway\n'))
    const result = run(file, { ...env, TSGI_CACHE_DIR: join(dir, 'file', 'cache') })
    expect(body(result)).toBe('anyway\n')
    expect(result.stderr).toMatch(/not using the compile cache .*\/file\/cache: it cannot be created \(ENOTDIR\)/)
  })
})

describe('entry files of another user', () => {
  it.runIf(process.geteuid?.() === 0)('are not used: the script recompiles and replaces them', () => {
    const { dir, cache, env } = place()
    const file = script(join(dir, 'hello'), hello('mine\n'))
    run(file, env)
    const record = entries(cache).find((name) => name.endsWith('.json'))!
    chownSync(join(cache, record), 65534, 65534)
    const next = run(file, env)
    expect(body(next)).toBe('mine\n')
    expect(next.stderr).toMatch(/cache miss for .*\(no entry\); compiled/)
    expect(statSync(join(cache, record)).uid).toBe(0)
  })
})

describe('where the cache is', () => {
  const { cachePlace } = createRequire(import.meta.url)(bin) as {
    cachePlace(env: Record<string, string>): { dir: string; fallback?: { dir: string } }
  }
  const uid = process.geteuid!()

  it("the entry's key holds tsgi's version: bin/tsgi-cgi.cjs says the one package.json says", () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
    expect((createRequire(import.meta.url)(bin) as { VERSION: string }).VERSION).toBe(version)
  })

  it('TSGI_CACHE_DIR, else XDG_CACHE_HOME/tsgi (absolute only), else HOME/.cache/tsgi, else TMPDIR', () => {
    expect(cachePlace({ TSGI_CACHE_DIR: 'rel', XDG_CACHE_HOME: '/x', HOME: '/h' }).dir).toBe(resolve('rel'))
    expect(cachePlace({ XDG_CACHE_HOME: '/x', HOME: '/h' }).dir).toBe('/x/tsgi')
    const home = cachePlace({ XDG_CACHE_HOME: 'relative', HOME: '/h', TMPDIR: '/t/' })
    expect([home.dir, home.fallback?.dir]).toEqual(['/h/.cache/tsgi', `/t/tsgi-cache-${uid}`])
    expect(cachePlace({}).dir).toBe(`/tmp/tsgi-cache-${uid}`)
  })

  it('a HOME that does not exist: the temporary directory', () => {
    const { dir, env } = place()
    const { TSGI_CACHE_DIR: _, ...rest } = env
    const file = script(join(dir, 'hello'), hello('tmp\n'))
    mkdirSync(join(dir, 'tmp'))
    const result = run(file, { ...rest, HOME: join(dir, 'no-home'), TMPDIR: join(dir, 'tmp') })
    expect(body(result)).toBe('tmp\n')
    expect(entries(join(dir, 'tmp', `tsgi-cache-${uid}`))).toHaveLength(3)
  })

  // Apache's www-data: HOME=/var/www, which it cannot write.
  it.runIf(process.geteuid?.() === 0)('a web server user whose HOME it cannot write: the temporary directory', () => {
    const { dir, env } = place()
    const { TSGI_CACHE_DIR: _, ...rest } = env
    const file = script(join(dir, 'hello'), hello('www\n'))
    const tmp = join(dir, 'tmp')
    mkdirSync(tmp)
    chmodSync(tmp, 0o1777)
    const www = { ...rest, HOME: dir, TMPDIR: tmp } // dir: root's, mode 0755
    for (let i = 0; i < 2; i++) expect(body(run(file, www, { uid: 65534, gid: 65534 }))).toBe('www\n')
    expect(run(file, www, { uid: 65534, gid: 65534 }).stderr).toMatch(/^tsgi-cgi: cache hit .*tsgi-cache-65534\//)
    expect(statSync(join(tmp, 'tsgi-cache-65534')).uid).toBe(65534)
  })
})

describe('tsgi cgi APP.ts', () => {
  it('uses the same cache entry as the script run by tsgi-cgi; --nph still applies', () => {
    const { dir, env } = place()
    const file = script(join(dir, 'app.ts'), hello('shared\n'))
    expect(run(file, env).stderr).toMatch(/cache miss/)
    const cli = spawnSync(process.execPath, [join(root, 'bin', 'tsgi.js'), 'cgi', file, '--nph'], {
      env,
      encoding: 'utf8',
    })
    expect(cli.stderr).toMatch(/^tsgi-cgi: cache hit /)
    expect(cli.stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nshared\n$/)
  })
})
