// systemd socket activation (F-32), as examples/systemd/ sets it up: the service's ExecStart= line runs
// under systemd-socket-activate, which listens (a Unix socket, or a loopback port), and on the first
// connection execs the command with the socket on fd 3 and LISTEN_FDS=1, LISTEN_PID=its pid, as systemd
// does for a .socket unit. Our FastCGI client then sends requests; SIGTERM to that pid stops it.
import { spawnSync } from 'node:child_process'
import { lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/gateways/fastcgi/options.js'
import { FastcgiClient } from '../../src/hosts/fastcgi/client.js'
import {
  CLEAN_ENV,
  FIXTURES,
  findBinary,
  freePort,
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  sleep,
  waitForListen,
} from './_harness.js'

const SERVICE = join(ROOT, 'examples/systemd/tsgi-app.service')
const SOCKET = join(ROOT, 'examples/systemd/tsgi-app.socket')
const APP = join(FIXTURES, 'systemd-app.ts')
const ACTIVATE = findBinary('systemd-socket-activate')
const ANALYZE = findBinary('systemd-analyze')
const INSTALL = 'apt-get install -y systemd'
if (ACTIVATE === undefined && !REQUIRE_SERVERS)
  console.warn(
    `integration: systemd socket activation: skipped, missing systemd-socket-activate; install with: ${INSTALL}`,
  )

/** The paths a user edits in the service, and what the test serves instead. */
const PATHS: Array<[string, string]> = [
  ['/srv/myapp/node_modules/.bin/tsgi', join(ROOT, 'bin/tsgi.js')],
  ['/srv/myapp/node_modules/tsgi/bin/tsgi.js', join(ROOT, 'bin/tsgi.js')],
  ['/srv/myapp/dist/app.js', APP],
  ['/opt/node/bin/node', process.execPath],
]

/** The service file's directives named `key` (`#key=` for the commented alternatives), paths replaced. */
function directives(key: string, text = readFileSync(SERVICE, 'utf8')): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${key}=`))
    .map((line) => PATHS.reduce((out, [from, to]) => out.replaceAll(from, to), line.slice(key.length + 1)))
}

/** An ExecStart= command line as argv (the example uses no quoting: a quote here is a mistake). */
function argv(line: string): string[] {
  if (/["'\\]|\/srv\/myapp|\/opt\/node/.test(line)) throw new Error(`systemd.test: cannot run ExecStart=${line}`)
  return line.split(/\s+/).filter((word) => word !== '')
}

/** As root, the service's User=tsgi (the CLI refuses to serve as root); else the current user. */
function serviceIds(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {}
  const entry = readFileSync('/etc/passwd', 'utf8').match(/^tsgi:[^:]*:(\d+):(\d+):/m)
  if (entry === null) throw new Error('integration: running as root needs a `tsgi` service user: useradd --system tsgi')
  return { uid: Number(entry[1]), gid: Number(entry[2]) }
}

describe('examples/systemd', () => {
  it('TimeoutStopSec= outlasts the shutdown deadline; no MemoryDenyWriteExecute (V8 JIT), no ProcSubset', () => {
    const text = readFileSync(SERVICE, 'utf8')
    const timeout = /^TimeoutStopSec=(\d+)s?$/m.exec(text)
    expect(timeout, 'TimeoutStopSec=N in seconds').not.toBeNull()
    expect(Number(timeout![1]) * 1000).toBeGreaterThan(resolveOptions({}).shutdownTimeoutMs)
    expect(text).not.toMatch(/^MemoryDenyWriteExecute=/m)
    expect(text).not.toMatch(/^ProcSubset=/m) // isListeningSocket reads /proc/net
    expect(text).toMatch(/^KillSignal=SIGTERM$/m)
    expect(text).toMatch(/^KillMode=mixed$/m) // SIGTERM to the manager, which stops its workers in order
    expect(text).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m)
    expect(directives('ExecStart')).toHaveLength(1)
    expect(directives('ExecStart')[0]).toMatch(
      / --listen systemd --workers auto --max-requests 1000 --status-path \/tsgi-status --ping-path \/tsgi-ping$/,
    )
    expect(readFileSync(SOCKET, 'utf8')).toMatch(/^ListenStream=\/run\/tsgi\/app\.sock$/m)
  })

  it.skipIf(ANALYZE === undefined && !REQUIRE_SERVERS)('the units pass systemd-analyze verify', () => {
    if (ANALYZE === undefined) throw new Error(`TSGI_REQUIRE_SERVERS=1 but systemd-analyze is missing: ${INSTALL}`)
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-units-'))
    try {
      // verify checks that ExecStart='s program exists: the checkout's stands in for /srv/myapp's.
      const service = readFileSync(SERVICE, 'utf8').replaceAll(PATHS[0]![0], PATHS[0]![1])
      writeFileSync(join(dir, 'tsgi-app.service'), service)
      writeFileSync(join(dir, 'tsgi-app.socket'), readFileSync(SOCKET, 'utf8'))
      const run = spawnSync(ANALYZE, ['verify', join(dir, 'tsgi-app.socket'), join(dir, 'tsgi-app.service')], {
        encoding: 'utf8',
        env: CLEAN_ENV,
      })
      expect({ status: run.status, output: run.stdout + run.stderr }).toEqual({ status: 0, output: '' })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(ACTIVATE === undefined && !REQUIRE_SERVERS)('systemd socket activation (F-32)', () => {
  let dir = ''
  let n = 0
  const running: Proc[] = []

  beforeAll(() => {
    if (ACTIVATE === undefined)
      throw new Error(`TSGI_REQUIRE_SERVERS=1 but systemd-socket-activate is missing: ${INSTALL}`)
    dir = mkdtempSync(join(tmpdir(), 'tsgi-systemd-'))
    const ids = serviceIds()
    if (ids.uid !== undefined) spawnSync('chown', [`${ids.uid}:${ids.gid}`, dir])
  })
  afterAll(async () => {
    await Promise.all(running.map((proc) => proc.stop()))
    if (dir !== '') rmSync(dir, { recursive: true, force: true })
  })

  /**
   * `systemd-socket-activate -l ADDR [-E NAME=VALUE...] COMMAND...` as the service user, with the service's
   * Environment= lines; resolves once it listens (connecting to check execs the command).
   */
  async function activate(
    listen: string[],
    command: string[],
    { env = [], options = [] }: { env?: string[]; options?: string[] } = {},
  ): Promise<{ proc: Proc; address: string }> {
    // TSGI_FROM_SOURCE=1: bin/tsgi.js runs src/, not a dist/ that may be older.
    const setenv = [...directives('Environment'), ...env, 'TSGI_FROM_SOURCE=1'].flatMap((pair) => ['-E', pair])
    const args = [...listen.flatMap((address) => ['-l', address]), ...options, ...setenv, ...command]
    const proc = new Proc(`systemd-socket-activate #${++n}`, ACTIVATE!, args, { ...serviceIds(), cwd: ROOT })
    running.push(proc)
    const address = listen[0]!
    await waitForListen(address.startsWith('/') ? address : Number(address.split(':')[1]), proc)
    return { proc, address }
  }

  const unixAddress = (): string => join(dir, `app${++n}.sock`)
  const tcpAddress = async (): Promise<string> => `127.0.0.1:${await freePort()}`

  /** Requests answered by the activated responder, including two on one kept connection. */
  async function served(address: string): Promise<Record<string, unknown>> {
    const client = new FastcgiClient({ address, keepAlive: true })
    try {
      const params = (path: string): Record<string, string> => ({
        GATEWAY_INTERFACE: 'CGI/1.1',
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '/app',
        PATH_INFO: path,
        QUERY_STRING: '',
        SERVER_NAME: 'localhost',
        SERVER_PORT: '80',
        SERVER_PROTOCOL: 'HTTP/1.1',
        REMOTE_ADDR: '127.0.0.1',
      })
      const answers: Array<Record<string, unknown>> = []
      for (const path of ['/one', '/two']) {
        const response = await client.request({ params: params(path) })
        expect(response.status).toBe(200)
        answers.push(JSON.parse(await response.text()) as Record<string, unknown>)
        expect(await response.end).toEqual({ appStatus: 0, protocolStatus: 0 })
      }
      expect(answers.map((answer) => answer.hello)).toEqual(['/one', '/two'])
      expect(client.stats.connections).toBe(1)
      return answers[1]!
    } finally {
      await client.close()
    }
  }

  /** The pid of the process that serves: the activated one itself, or (with --workers) one of its children. */
  function servedBy(report: Record<string, unknown>, proc: Proc): 'itself' | 'its worker' | 'another process' {
    const pid = report.pid as number
    if (pid === proc.child.pid) return 'itself'
    const parent = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
    return parent === proc.child.pid ? 'its worker' : 'another process'
  }

  /** SIGTERM to the responder's pid (systemd's KillSignal=): it finishes and exits 0. */
  async function stop(proc: Proc): Promise<void> {
    process.kill(proc.child.pid!, 'SIGTERM')
    const code = await Promise.race([proc.exited, sleep(15_000).then(() => 'still running')])
    expect(code, proc.output).toBe(0)
  }

  const [execStart] = directives('ExecStart')
  const [viaNode] = directives('#ExecStart')

  it("ExecStart= on a Unix socket: served, LISTEN_* gone from the app's and its children's environment", async () => {
    const path = unixAddress()
    const { proc } = await activate([path], argv(execStart!))
    const before = lstatSync(path)
    const report = await served(path)
    expect(report).toMatchObject({ listenVars: [], childListenVars: [], nodeEnv: 'production' })
    expect(servedBy(report, proc)).toBe('its worker')
    await stop(proc)
    // The socket is systemd's: still there, the same inode, its mode and owner untouched.
    const after = lstatSync(path)
    expect(after.isSocket()).toBe(true)
    expect([after.ino, after.mode, after.uid, after.gid]).toEqual([before.ino, before.mode, before.uid, before.gid])
  })

  it('ExecReload= (SIGHUP to $MAINPID): new workers on the same socket, the old ones gone', async () => {
    const path = unixAddress()
    const { proc } = await activate([path], argv(execStart!))
    const before = (await served(path)).pid as number
    process.kill(proc.child.pid!, 'SIGHUP')
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline && !/reload done/.test(proc.output)) await sleep(50)
    expect(proc.output).toMatch(/reload done/)
    const after = await served(path)
    expect(after.pid).not.toBe(before)
    expect(servedBy(after, proc)).toBe('its worker')
    await stop(proc)
  })

  it('ExecStart= on a loopback TCP port (the socket unit commented alternative)', async () => {
    const address = await tcpAddress()
    const { proc } = await activate([address], argv(execStart!))
    const report = await served(address)
    expect(report).toMatchObject({ listenVars: [], childListenVars: [] })
    expect(servedBy(report, proc)).toBe('its worker')
    await stop(proc)
    expect(proc.output).toContain(`FastCGI manager on ${address} (pid ${proc.child.pid}`)
  })

  it('the commented ExecStart= through node with the V8 flag, installed package path', async () => {
    const path = unixAddress()
    const { proc } = await activate([path], argv(viaNode!))
    const report = await served(path)
    expect(report).toMatchObject({ listenVars: [] })
    expect(servedBy(report, proc)).toBe('its worker')
    await stop(proc)
  })

  it('node bin/tsgi.js without the V8 flag: restarted with it, the socket follows (LISTEN_PID)', async () => {
    // A child with a pid of its own, on every Node: execve would close fd 3, which node marks close-on-exec.
    const address = await tcpAddress()
    const command = [process.execPath, join(ROOT, 'bin/tsgi.js'), 'fastcgi', APP, '--listen', 'systemd']
    const { proc } = await activate([address], command)
    expect(await served(address)).toMatchObject({ listenVars: [], childListenVars: [] })
    await stop(proc)
  })

  /** A script of our own that serves the app with `call` (imports from src/), run through tsx. */
  function script(module: string, imports: string, call: string): string[] {
    const path = join(dir, `${imports}.ts`)
    const text = `import { ${imports} } from '${join(ROOT, 'src/gateways', module)}'\nimport app from '${APP}'\nvoid ${call}\n`
    writeFileSync(path, text, { mode: 0o644 })
    return [process.execPath, '--import', 'tsx', path]
  }

  it('a socket-activated process is FastCGI, never CGI, even with REQUEST_METHOD set (serveAuto)', async () => {
    const path = unixAddress()
    const command = script('auto.js', 'serveAuto', 'serveAuto(app)')
    const { proc } = await activate([path], command, { env: ['REQUEST_METHOD=GET'] })
    expect(await served(path)).toMatchObject({ pid: proc.child.pid, listenVars: [], childListenVars: [] })
    await stop(proc)
  })

  it('serveFastcgi without listen takes the systemd socket before looking at fd 0', async () => {
    const address = await tcpAddress()
    const command = script('fastcgi/responder.js', 'serveFastcgi', 'serveFastcgi(app, { handleSignals: true })')
    const { proc } = await activate([address], command)
    expect(await served(address)).toMatchObject({ pid: proc.child.pid, listenVars: [], childListenVars: [] })
    await stop(proc)
  })

  it('two sockets: a clear error naming them (FileDescriptorName=, LISTEN_FDNAMES)', async () => {
    const { proc } = await activate([unixAddress(), unixAddress()], argv(execStart!), {
      options: ['--fdname=web:admin'],
    })
    expect(await Promise.race([proc.exited, sleep(15_000).then(() => 'still running')])).not.toBe(0)
    expect(proc.output).toContain('systemd passed 2 sockets, fd 3 (web), fd 4 (admin); tsgi serves exactly one')
  })

  it('--listen systemd started without a socket says how to set one up', () => {
    const run = spawnSync(argv(execStart!)[0]!, argv(execStart!).slice(1), {
      env: { ...CLEAN_ENV, TSGI_FROM_SOURCE: '1' },
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      ...serviceIds(),
    })
    expect(run.status).not.toBe(0)
    expect(run.stderr).toContain('--listen systemd, but systemd passed this process no socket (LISTEN_PID is not set)')
    expect(run.stderr).toContain('ListenStream=')
  })

  it('tsgi fastcgi APP without --listen takes the systemd socket', async () => {
    const path = unixAddress()
    const command = argv(execStart!).filter((word, i, all) => word !== '--listen' && all[i - 1] !== '--listen')
    expect(command).not.toContain('systemd')
    const { proc } = await activate([path], command)
    const report = await served(path)
    expect(report).toMatchObject({ listenVars: [], childListenVars: [] })
    expect(servedBy(report, proc)).toBe('its worker')
    await stop(proc)
  })
})
