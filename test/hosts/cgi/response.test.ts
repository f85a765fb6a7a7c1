// What the CGI host makes of a script's output (RFC 3875 §5, §6): the parsed head and its fields, local
// and client redirects, NPH, the 502 for output that is no response, and the 502 for a script that cannot
// be started, naming its path. Also: the script path is executed as a file, never handed to a shell.
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { isTsgiError } from '../../../src/errors.js'
import { runCgiScript } from '../../../src/hosts/cgi/index.js'
import { asCgi, bytesOf, fixture, GET, textOf } from './_helpers.js'

/** Runs emit.sh with `output` (printf %b escapes) as what it writes. */
const emit = (output: string, more: Partial<Parameters<typeof runCgiScript>[0]> = {}) =>
  runCgiScript({ script: fixture('emit.sh'), vars: GET, env: { EMIT: output }, ...more })

const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  )

let scratch: string
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tsgi-cgi-host-'))
})
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

describe('the response head (RFC 3875 §6)', () => {
  it('parses Status, keeps repeated fields in order, and streams the body after the blank line', async () => {
    const response = asCgi(
      await emit(
        'Status: 201 Made\\r\\nSet-Cookie: a=1\\r\\nContent-Type: text/plain\\r\\nSet-Cookie: b=2\\r\\n\\r\\nbody',
      ),
    )
    expect(response).toMatchObject({ status: 201, reason: 'Made' })
    expect(response.headers).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'b=2'],
    ])
    expect(await textOf(response.body)).toBe('body')
    expect(await response.exit).toEqual({ code: 0, signal: null, timedOut: false, aborted: false })
  })

  it('returns a local redirect as 200 + Location for the caller to re-dispatch (§6.2.2, C-14)', async () => {
    const response = asCgi(await emit('Location: /other/path?q=1\\n\\n'))
    expect(response.status).toBe(200)
    expect(response.headers).toEqual([['Location', '/other/path?q=1']])
  })

  it('answers a client redirect with 302 (§6.2.3, C-15)', async () => {
    const response = asCgi(await emit('Location: https://example.test/\\n\\n'))
    expect([response.status, response.reason]).toEqual([302, 'Found'])
  })

  it('drops hop-by-hop fields and those a Connection field names (C-18)', async () => {
    const head =
      'Content-Type: text/plain\\nConnection: close, X-Private\\nKeep-Alive: timeout=5\\n' +
      'Transfer-Encoding: chunked\\nUpgrade: h2c\\nTrailer: X\\nX-Private: secret\\nX-Public: yes\\n\\n'
    const response = asCgi(await emit(head))
    expect(response.headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['X-Public', 'yes'],
    ])
  })

  it('hands the body over byte for byte, binary included', async () => {
    const response = asCgi(await emit('Content-Type: application/octet-stream\\n\\n\\0000\\0377\\r\\n\\0001'))
    expect([...(await bytesOf(response.body))]).toEqual([0, 255, 13, 10, 1])
  })
})

describe('output that is no response: 502, no crash', () => {
  it.each<[string, string, RegExp]>([
    ['empty output (C-21)', '', /wrote no response \(exit code 0\)/],
    ['no blank line after the head', 'Content-Type: text/plain\\n', /stopped inside its header block/],
    ['binary junk', '\\0001\\0377\\0200\\n\\n', /bad response header line/],
    ['a line without a colon', 'HTTP/1.1 200 OK\\r\\n\\r\\n', /bad response header line/],
    ['a bad Status', 'Status: abc\\n\\n', /bad Status header/],
    ['two Status fields', 'Status: 200 OK\\nStatus: 404 No\\n\\n', /two Status header lines/],
    [
      'a bare CR inside a value (S-04)',
      'X-Smuggle: a\\rSet-Cookie: b\\n\\n',
      /forbidden character in header X-Smuggle/,
    ],
    ['a name that is no token (S-04)', 'X Y: z\\n\\n', /is not an HTTP token/],
    ['a NUL in the reason (S-04)', 'Status: 200 O\\0000K\\n\\n', /forbidden character in the Status reason/],
  ])('%s', async (_name, output, message) => {
    const err = await failure(emit(output))
    expect(isTsgiError(err, 'ERR_BAD_HEADER')).toBe(true)
    expect(err).toMatchObject({ status: 502 })
    expect((err as Error).message).toMatch(message)
    expect((err as Error).message).toContain(fixture('emit.sh'))
  })

  it('says how the script ended when it wrote nothing and failed', async () => {
    const err = await failure(runCgiScript({ script: fixture('emit.sh'), vars: GET, env: { EMIT: '', CODE: '3' } }))
    expect((err as Error).message).toMatch(/wrote no response \(exit code 3\)/)
  })

  it('refuses a head over maxHeaderBytes, whether or not its blank line came (ERR_HEADER_BLOCK_TOO_LARGE)', async () => {
    const long = `X-Long: ${'a'.repeat(2000)}\\n`
    for (const output of [long, `${long}\\n`]) {
      const err = await failure(emit(output, { maxHeaderBytes: 1024 }))
      expect(isTsgiError(err, 'ERR_HEADER_BLOCK_TOO_LARGE')).toBe(true)
      expect(err).toMatchObject({ status: 502 })
    }
  })

  it('refuses a head over the default 64 KiB', async () => {
    const err = await failure(emit(`X-Long: ${'a'.repeat(70_000)}\\n\\n`))
    expect(isTsgiError(err, 'ERR_HEADER_BLOCK_TOO_LARGE')).toBe(true)
  })
})

describe('NPH scripts (RFC 3875 §5, C-19)', () => {
  it('returns the raw response of a script named nph-*, status line included', async () => {
    const response = await runCgiScript({ script: fixture('nph-hello.sh'), vars: GET })
    expect(response.kind).toBe('nph')
    if (response.kind !== 'nph') return
    const raw = await textOf(response.raw)
    expect(raw).toBe('HTTP/1.1 203 Non-Authoritative Information\r\nContent-Type: text/plain\r\n\r\nraw')
    expect((await response.exit).code).toBe(0)
  })

  it('follows the nph option over the file name, both ways', async () => {
    const raw = await emit('HTTP/1.0 200 OK\\r\\n\\r\\nx', { nph: true })
    expect(raw.kind).toBe('nph')
    const err = await failure(runCgiScript({ script: fixture('nph-hello.sh'), vars: GET, nph: false }))
    expect(err).toMatchObject({ status: 502 })
  })

  it('is a 502 when an NPH script writes nothing', async () => {
    const err = await failure(emit('', { nph: true }))
    expect(err).toMatchObject({ status: 502, code: 'ERR_BAD_HEADER' })
  })
})

describe('a script that cannot be started: 502 naming the path', () => {
  it('a missing script', async () => {
    const script = join(scratch, 'missing.cgi')
    const err = await failure(runCgiScript({ script, vars: GET }))
    expect(err).toMatchObject({ status: 502, code: 'ERR_LOAD_APP' })
    expect((err as Error).message).toBe(`cgi: cannot start ${script}: no such file (ENOENT)`)
  })

  it('a script that is not executable (EACCES)', async () => {
    const script = join(scratch, 'not-executable.sh')
    writeFileSync(script, '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\nran"\n', { mode: 0o644 })
    const err = await failure(runCgiScript({ script, vars: GET }))
    expect(err).toMatchObject({ status: 502, code: 'ERR_LOAD_APP' })
    expect((err as Error).message).toContain(`cannot start ${script}: permission denied (EACCES)`)
  })

  it('a missing #! interpreter', async () => {
    const script = join(scratch, 'bad-interpreter.sh')
    writeFileSync(script, '#!/nonexistent/interpreter\n', { mode: 0o755 })
    const err = await failure(runCgiScript({ script, vars: GET }))
    expect((err as Error).message).toContain(`${script}: the interpreter on its #! line was not found`)
  })

  it('a text file without #!, which execvp would hand to /bin/sh', async () => {
    const script = join(scratch, 'no-shebang')
    const marker = join(scratch, 'no-shebang-ran')
    writeFileSync(script, `touch ${marker}\nprintf 'Content-Type: text/plain\\n\\n'\n`, { mode: 0o755 })
    const err = await failure(runCgiScript({ script, vars: GET }))
    expect((err as Error).message).toContain('no #! line')
    expect(existsSync(marker)).toBe(false)
  })

  it('a directory, a relative path, a missing working directory', async () => {
    expect(await failure(runCgiScript({ script: scratch, vars: GET }))).toMatchObject({ status: 502 })
    expect(await failure(runCgiScript({ script: 'emit.sh', vars: GET }))).toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    const err = await failure(runCgiScript({ script: fixture('emit.sh'), vars: GET, cwd: join(scratch, 'nowhere') }))
    expect((err as Error).message).toContain('working directory')
  })

  it('refuses a timeout or head limit that is not a positive number; Infinity means none', async () => {
    for (const bad of [{ timeoutMs: 0 }, { timeoutMs: Number.NaN }, { maxHeaderBytes: -1 }]) {
      expect(await failure(emit('Content-Type: text/plain\\n\\n', bad))).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    }
    const response = asCgi(await emit('Content-Type: text/plain\\n\\nok', { timeoutMs: Number.POSITIVE_INFINITY }))
    expect(await textOf(response.body)).toBe('ok')
  })

  it('an already aborted signal starts nothing', async () => {
    const err = await failure(emit('Content-Type: text/plain\\n\\n', { signal: AbortSignal.abort() }))
    expect(isTsgiError(err, 'ERR_ABORTED')).toBe(true)
  })
})

describe('no shell anywhere (S-02)', () => {
  it('runs a path full of shell syntax as that very file, evaluating nothing', async () => {
    const dir = join(scratch, 'shell syntax')
    mkdirSync(dir)
    const script = join(dir, 'a b;$(touch pwned)`touch pwned2`|x&.sh')
    copyFileSync(fixture('emit.sh'), script)
    chmodSync(script, 0o755)
    const response = asCgi(await emit('Content-Type: text/plain\\n\\nran', { script }))
    expect(await textOf(response.body)).toBe('ran')
    expect(readdirSync(dir)).toEqual(['a b;$(touch pwned)`touch pwned2`|x&.sh'])
  })

  it('fails cleanly for a path that only works through a shell', async () => {
    const err = await failure(runCgiScript({ script: `${fixture('emit.sh')}; touch ${scratch}/pwned`, vars: GET }))
    expect(err).toMatchObject({ status: 502, code: 'ERR_LOAD_APP' })
    expect(existsSync(join(scratch, 'pwned'))).toBe(false)
  })
})

describe("the script's stderr", () => {
  it('goes to log line by line, long lines in pieces, while the response still arrives', async () => {
    const lines: string[] = []
    const response = asCgi(
      await runCgiScript({ script: fixture('stderr.sh'), vars: GET, log: (line) => lines.push(line) }),
    )
    expect(await textOf(response.body)).toBe('logged')
    await response.exit
    await vi.waitFor(() => expect(lines.at(-1)).toBe('last'))
    expect(lines.slice(0, 3)).toEqual(['one', 'two', 'three'])
    expect(lines.slice(3, -1).join('')).toBe('x'.repeat(40_000))
    expect(lines.length).toBe(7) // 40000 chars in pieces of 16 KiB: 3 lines
  })

  it('goes to process.stderr as `cgi: <script>: <line>` by default', async () => {
    const written: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk))
      return true
    })
    try {
      const response = asCgi(await runCgiScript({ script: fixture('stderr.sh'), vars: GET }))
      await textOf(response.body)
      await response.exit
      await vi.waitFor(() => expect(written).toContain(`cgi: ${fixture('stderr.sh')}: last\n`))
      expect(written[0]).toBe(`cgi: ${fixture('stderr.sh')}: one\n`)
    } finally {
      spy.mockRestore()
    }
  })
})
