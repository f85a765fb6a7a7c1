// `tsgi fastcgi` as an operator runs it: the V8 flags even when started as `node bin/tsgi.js`, a Unix
// socket owned so that only the web server's group can connect, root dropped, a pid file, and the
// refusal to keep serving as root. The ownership tests need root (CI runs as root) and a `tsgi` user.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FastcgiClient } from '../../src/hosts/fastcgi/client.js'
import { vars } from '../gateways/fastcgi/_raw.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const bin = `${root}bin/tsgi.js`
const app = `${root}test/cli/fixtures/app.js`
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' }
const isRoot = process.getuid?.() === 0
const hasUser = (name: string): boolean => readFileSync('/etc/passwd', 'utf8').includes(`\n${name}:`)
const asRoot = isRoot && hasUser('tsgi') && hasUser('www-data') ? it : it.skip

let dir = ''
let running: ChildProcess | undefined
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-operator-'))
})
afterEach(() => {
  if (running?.exitCode === null && running.signalCode === null) running.kill('SIGKILL')
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Starts `node bin/tsgi.js fastcgi ...` (no V8 flags on node's command line); resolves once it listens. */
function start(args: string[]): Promise<{ proc: ChildProcess; pid: number; address: string; stderr: () => string }> {
  const proc = spawn(process.execPath, [bin, 'fastcgi', app, ...args], { env, cwd: root })
  running = proc
  let stderr = ''
  proc.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  return new Promise((resolve, reject) => {
    proc.stderr!.on('data', () => {
      const found = /FastCGI responder on (\S+) \(pid (\d+)/.exec(stderr)
      if (found) resolve({ proc, pid: Number(found[2]), address: found[1]!, stderr: () => stderr })
    })
    proc.on('close', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
}

const exited = (proc: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => (proc.exitCode !== null ? resolve(proc.exitCode) : proc.on('close', resolve)))

async function hello(address: string): Promise<string> {
  const client = new FastcgiClient({ address })
  try {
    return await (await client.request({ params: vars('/x') })).text()
  } finally {
    client.destroy()
  }
}

describe('tsgi fastcgi as an operator starts it', () => {
  it('started as `node bin/tsgi.js`, the responder still runs with the V8 flags; SIGTERM stops it, exit 0', async () => {
    const { proc, pid, address } = await start(['--listen', '127.0.0.1:0', '--allow-root'])
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
    expect(cmdline).toEqual(expect.arrayContaining(['--max-semi-space-size=2']))
    expect(await hello(address)).toBe('js app at /x\n')
    proc.kill('SIGTERM')
    expect(await exited(proc)).toBe(0)
    expect(existsSync(`/proc/${pid}`)).toBe(false)
  })

  it.runIf(isRoot)('refuses to keep serving as root without --user or --allow-root', async () => {
    const proc = spawn(process.execPath, [bin, 'fastcgi', app, '--listen', '127.0.0.1:0'], { env })
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    expect(await exited(proc)).toBe(1)
    expect(stderr).toContain('refusing to serve as root: pass --user USER[:GROUP]')
  })

  asRoot('a Unix socket owned tsgi:www-data 0660, root dropped to tsgi, a pid file; SIGTERM stops it', async () => {
    const socket = join(dir, 'app.sock')
    const pidFile = join(dir, 'app.pid')
    const { proc, pid } = await start([
      ...['--listen', socket, '--socket-owner', 'tsgi:www-data', '--socket-mode', '0660'],
      ...['--user', 'tsgi', '--pid-file', pidFile],
    ])
    const stat = statSync(socket)
    const passwd = readFileSync('/etc/passwd', 'utf8')
    const uid = (name: string): number => Number(new RegExp(`^${name}:[^:]*:(\\d+):(\\d+)`, 'm').exec(passwd)![1])
    const wwwGid = Number(/^www-data:[^:]*:\d+:(\d+)/m.exec(passwd)![1])
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([uid('tsgi'), wwwGid, 0o660])
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    expect(/^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status)!.slice(1).map(Number)).toEqual([
      uid('tsgi'),
      uid('tsgi'),
      uid('tsgi'),
    ])
    expect(readFileSync(pidFile, 'utf8')).toBe(`${pid}\n`)
    expect(await hello(socket)).toBe('js app at /x\n')
    proc.kill('SIGTERM')
    expect(await exited(proc)).toBe(0)
  })

  asRoot('--user with a user that does not exist fails before anything is created', async () => {
    const socket = join(dir, 'never.sock')
    const proc = spawn(process.execPath, [bin, 'fastcgi', app, '--listen', socket, '--user', 'no-such-user-tsgi'], {
      env,
    })
    let stderr = ''
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    expect(await exited(proc)).toBe(1)
    expect(stderr).toContain('--user: no such user "no-such-user-tsgi"')
    expect(existsSync(socket)).toBe(false)
  })
})
