// The responder as a process, started the ways web servers start it: `tsgi fastcgi` with a listening socket
// on fd 0 (mod_fcgid, FastCGI spec §2.2) and SIGTERM to stop (spec §7, F-30), spawn-fcgi, libfcgi's
// cgi-fcgi as the client, and the fd-0 entry falling back to CGI when fd 0 is no listening socket.
import { spawn, spawnSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FastcgiClient } from '../../../src/hosts/fastcgi/client.js'
import { waitForFile } from '../../_conformance.js'
import { bundles, cleanEnv, exited, ROOT, removeBundles, spawnOnFd0 } from '../../_transports.js'
import { responder, type TestResponder, vars } from './_raw.js'

let scratch: string
beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-proc-'))
  await bundles()
})
afterAll(() => {
  removeBundles()
  rmSync(scratch, { recursive: true, force: true })
})

const installed = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
// As in test/integration: a missing tool skips its tests, unless TSGI_REQUIRE_SERVERS=1 (CI) makes it a failure.
const REQUIRE_SERVERS = process.env.TSGI_REQUIRE_SERVERS === '1'
const skipWithout = (tool: string): boolean => !installed(tool) && !REQUIRE_SERVERS
function requireTool(tool: string): void {
  beforeAll(() => {
    if (!installed(tool)) throw new Error(`TSGI_REQUIRE_SERVERS=1 but ${tool} is not installed`)
  })
}
/** bin/tsgi.js runs the sources, not a possibly stale dist/. */
const fromSource = (): Record<string, string> => cleanEnv({ TSGI_FROM_SOURCE: '1' })

describe('tsgi fastcgi on an inherited fd 0', () => {
  it('serves, and on SIGTERM finishes the request in flight, refuses new ones and exits 0', async () => {
    const { module } = await bundles()
    const { child, address, stderr } = await spawnOnFd0(
      [process.execPath, join(ROOT, 'bin/tsgi.js'), 'fastcgi', module, '--allow-root'],
      fromSource(),
    )
    const client = new FastcgiClient({ address })
    const file = join(scratch, 'graceful')
    const response = await client.request({ params: vars('/slow', { query: `file=${file}&n=30&ms=10` }) })
    const iterator = response.body[Symbol.asyncIterator]()
    let received = (await iterator.next()).value!.length
    child.kill('SIGTERM')
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) received += step.value.length
    expect(received).toBe(30 * 16384)
    expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(existsSync(`${file}.done`)).toBe(true)
    expect(existsSync(`${file}.signal`)).toBe(false)
    expect(await exited(child)).toBe(0)
    expect(stderr()).toContain(`FastCGI responder on ${address}`) // a TCP fd 0 reports its address
    expect(stderr()).toMatch(/SIGTERM: finishing 1 request\(s\), then exiting/)
    await expect(new FastcgiClient({ address }).request({ params: vars('/hello') })).rejects.toMatchObject({
      code: 'ERR_FCGI_CONNECTION_CLOSED',
    })
    client.destroy()
  })

  it('F-30: SIGINT stops it like SIGTERM: the request in flight finishes, then exit 0', async () => {
    const { module } = await bundles()
    const { child, address, stderr } = await spawnOnFd0(
      [process.execPath, join(ROOT, 'bin/tsgi.js'), 'fastcgi', module, '--allow-root'],
      fromSource(),
    )
    const client = new FastcgiClient({ address })
    const file = join(scratch, 'sigint')
    const response = await client.request({ params: vars('/slow', { query: `file=${file}&n=30&ms=10` }) })
    const iterator = response.body[Symbol.asyncIterator]()
    let received = (await iterator.next()).value!.length
    child.kill('SIGINT')
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) received += step.value.length
    expect(received).toBe(30 * 16384)
    expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(existsSync(`${file}.signal`)).toBe(false)
    expect(await exited(child)).toBe(0)
    expect(child.signalCode).toBeNull()
    expect(stderr()).toMatch(/SIGINT: finishing 1 request\(s\), then exiting/)
    client.destroy()
  })

  it('the fd-0 entry (serveAuto) answers one CGI request when fd 0 is not a listening socket', async () => {
    const { auto } = await bundles()
    const env = cleanEnv({
      REQUEST_METHOD: 'GET',
      SCRIPT_NAME: '/app',
      PATH_INFO: '/hello',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
    })
    const run = spawnSync(process.execPath, [auto], { env, input: '', encoding: 'latin1' })
    expect(run.status).toBe(0)
    expect(run.stdout).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello world!\n')
  })
})

describe.skipIf(skipWithout('spawn-fcgi'))(
  'spawn-fcgi -n (skipped when spawn-fcgi is not installed; a failure under TSGI_REQUIRE_SERVERS=1)',
  () => {
    requireTool('spawn-fcgi')
    it('hands over a Unix socket with -M 0600; the responder serves on it and stops on SIGTERM', async () => {
      const { auto } = await bundles()
      const path = join(scratch, 'spawn-fcgi.sock')
      const child = spawn('spawn-fcgi', ['-n', '-s', path, '-M', '0600', '--', process.execPath, auto], {
        env: cleanEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      expect(await waitForFile(path)).toBe(true)
      expect(statSync(path).mode & 0o777).toBe(0o600)
      const client = new FastcgiClient({ address: path })
      const response = await client.request({ params: vars('/env') })
      const report = JSON.parse(await response.text()) as {
        tsgi: Record<string, unknown>
        process: Record<string, unknown>
      }
      expect(report.tsgi).toMatchObject({ role: 'RESPONDER', run_once: false, multiprocess: true })
      expect(report.process.pid).toBe(child.pid) // -n: spawn-fcgi execs the app in its own process
      await client.close()
      child.kill('SIGTERM')
      expect(await exited(child)).toBe(0)
    })
  },
)

describe.skipIf(skipWithout('cgi-fcgi'))(
  "libfcgi's cgi-fcgi against the responder (skipped when cgi-fcgi is not installed; a failure under TSGI_REQUIRE_SERVERS=1)",
  () => {
    requireTool('cgi-fcgi')
    let server: TestResponder
    beforeAll(async () => {
      server = await responder()
    })
    afterAll(async () => {
      await server?.close() // unset when requireTool failed first
    })

    /** cgi-fcgi sends its whole environment as PARAMS, so it gets only these. */
    function cgiFcgi(
      address: string,
      env: Record<string, string>,
      input: Buffer | string = '',
    ): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn('cgi-fcgi', ['-bind', '-connect', address], {
          env: { SERVER_PROTOCOL: 'HTTP/1.1', SCRIPT_NAME: '/app', ...env },
        })
        const out: Buffer[] = []
        let err = ''
        child.stdout.on('data', (chunk: Buffer) => out.push(chunk))
        child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
        child.on('error', reject)
        child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }))
        child.stdin.end(input)
      })
    }

    it('GET: the CGI response on stdout, exit status 0 (= appStatus)', async () => {
      const run = await cgiFcgi(server.address, { REQUEST_METHOD: 'GET', PATH_INFO: '/hello' })
      expect(run.stdout.toString('latin1')).toBe(
        'Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello world!\n',
      )
      expect(run.code).toBe(0)
    })

    it('a 100 KB POST over a Unix socket arrives whole', async () => {
      const unix = await responder({ listen: join(scratch, 'cgi-fcgi.sock') })
      const body = randomBytes(100_000)
      const run = await cgiFcgi(
        unix.address,
        { REQUEST_METHOD: 'POST', PATH_INFO: '/echo', CONTENT_LENGTH: String(body.length) },
        body,
      )
      await unix.close()
      const text = run.stdout.toString('latin1')
      const report = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>
      expect(report).toMatchObject({ length: 100_000, sha256: createHash('sha256').update(body).digest('hex') })
    })

    it('an app error: a 500 on stdout, the detail on stderr, exit status 1 (appStatus, F-23)', async () => {
      const run = await cgiFcgi(server.address, { REQUEST_METHOD: 'GET', PATH_INFO: '/error' })
      expect(run.stdout.toString('latin1')).toMatch(/^Status: 500 Internal Server Error\r\n/)
      expect(run.stderr).toContain('secret-detail-7f3a')
      expect(run.code).toBe(1)
    })
  },
)
