// Runs real web servers for the integration suite: finds their binaries, renders the example config files
// into a temp dir, starts each server in the foreground in its own process group, waits for its port, and
// stops the whole group (the server and every process it spawned) at the end.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURES = join(ROOT, 'test/integration/fixtures')
// The conformance app (test/fixtures/): the same app the in-process, CGI, dev-server and FastCGI suites serve.
export const APP = join(ROOT, 'test/fixtures/conformance-app.ts')
export const INSTALL_COMMAND =
  'apt-get install -y apache2 libapache2-mod-fcgid nginx lighttpd caddy haproxy h2o libfcgi-bin spawn-fcgi openssl'
export const REQUIRE_SERVERS = process.env.TSGI_REQUIRE_SERVERS === '1'
export const APACHE_MODULES = '/usr/lib/apache2/modules'

// The servers start with this environment only: no NODE_EXTRA_CA_CERTS (it triples node start-up) and
// nothing else from the test's shell leaks into CGI scripts or spawned responders.
const SEARCH_PATH = [
  dirname(process.execPath),
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
]
export const CLEAN_ENV: Record<string, string> = { PATH: [...new Set(SEARCH_PATH)].join(delimiter), LANG: 'C.UTF-8' }

/** Absolute path of an executable on CLEAN_ENV's PATH, or of a file given by absolute path. */
export function findBinary(name: string): string | undefined {
  if (name.startsWith('/')) return existsSync(name) ? name : undefined
  for (const dir of SEARCH_PATH) {
    const path = join(dir, name)
    if (existsSync(path)) return path
  }
  return undefined
}

/** The names in `names` that are not installed. */
export function missingBinaries(names: string[]): string[] {
  return names.filter((name) => findBinary(name) === undefined)
}

/** Says which binaries are missing and how to install them; a failure under TSGI_REQUIRE_SERVERS=1. */
export function skipMessage(what: string, missing: string[]): string {
  return `integration: ${what}: skipped, missing ${missing.join(', ')}; install with: ${INSTALL_COMMAND}`
}

/** The user the servers drop to when the suite runs as root (their config files say `www-data`). */
export function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('www-data:'))
  const [, , uid, gid] = line?.split(':') ?? []
  if (uid === undefined || gid === undefined)
    throw new Error('integration: running as root needs a www-data user for the servers')
  return { uid: Number(uid), gid: Number(gid) }
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned: the server binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** A world-readable temp dir owned by the servers' user, so workers can write logs and sockets in it. */
export function makeRunDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-it-'))
  chmodSync(dir, 0o755)
  return dir
}

/** Creates `path` (and parents below the run dir) owned by the server user when running as root. */
export function serverDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o755 })
  const user = serverUser()
  if (user !== undefined) chownSync(path, user.uid, user.gid)
  return path
}

/**
 * The responder's socket directory, as the README sets up /run/tsgi: owned by the service user, so it can
 * remove its socket when it stops, and searchable by the web servers' group www-data (0750).
 */
export function socketDir(path: string): string {
  mkdirSync(path, { recursive: true, mode: 0o750 })
  chmodSync(path, 0o750)
  const web = serverUser()
  if (web !== undefined) {
    serviceUser()
    const tsgi = readFileSync('/etc/passwd', 'utf8').match(/^tsgi:[^:]*:(\d+):/m)
    chownSync(path, Number(tsgi?.[1]), web.gid)
  }
  return path
}

export function removeRunDir(dir: string): void {
  if (process.env.TSGI_KEEP_RUNDIR === '1') {
    console.log(`integration: kept ${dir}`)
    return
  }
  rmSync(dir, { recursive: true, force: true })
}

/** Replaces every `@NAME@` in an example file; a placeholder without a value is an error. */
export function render(templatePath: string, vars: Record<string, string>, outPath: string): string {
  const text = readFileSync(templatePath, 'utf8').replace(/@([A-Z][A-Z_]*)@/g, (match, name: string) => {
    const value = vars[name]
    if (value === undefined) throw new Error(`integration: ${templatePath} uses ${match}, which has no value`)
    return value
  })
  writeFileSync(outPath, text)
  return outPath
}

/** A process started in its own process group, with its output kept for failure messages. */
export class Proc {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  #output = ''
  exitCode: number | null | undefined

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    options: { env?: Record<string, string>; cwd?: string; uid?: number; gid?: number; logFile?: string } = {},
  ) {
    this.child = spawn(command, args, {
      env: options.env ?? CLEAN_ENV,
      cwd: options.cwd ?? ROOT,
      detached: true, // a new process group: stop() reaches everything the server spawned
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
    })
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-20_000)
      if (options.logFile !== undefined) appendFileSync(options.logFile, chunk)
    }
    this.child.stdout?.on('data', keep)
    this.child.stderr?.on('data', keep)
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code
        resolve(code ?? (signal === null ? null : -1))
      })
      this.child.on('error', (err) => {
        this.#output += `\nspawn failed: ${err.message}`
        this.exitCode = null
        resolve(null)
      })
    })
  }

  get output(): string {
    return this.#output
  }

  /** SIGTERM to the whole group, then SIGKILL to whatever is left after `graceMs`. */
  async stop(graceMs = 8000): Promise<number | null> {
    const pid = this.child.pid
    if (pid === undefined) return this.exited
    signalGroup(pid, 'SIGTERM')
    const deadline = Date.now() + graceMs
    while (groupAlive(pid) && Date.now() < deadline) await sleep(50)
    if (groupAlive(pid)) signalGroup(pid, 'SIGKILL')
    return this.exited
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal)
  } catch {
    // the group is gone
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch {
    return false
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Waits until something accepts connections on `target`; fails early with the output if `proc` exits. */
export async function waitForListen(
  target: number | string,
  proc: Proc,
  logFiles: string[] = [],
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (proc.exitCode !== undefined) break
    if (await canConnect(target)) return
    await sleep(100)
  }
  const logs = logFiles.filter((f) => existsSync(f)).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-3000)}`)
  throw new Error(
    `integration: ${proc.name} did not listen on ${target} (exit ${proc.exitCode}):\n${proc.output.slice(-3000)}\n${logs.join('\n')}`,
  )
}

function canConnect(target: number | string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target)
    socket.once('connect', () => {
      socket.destroy()
      return resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** nginx in the foreground on a rendered configuration, its error log in `runDir`; resolves once it listens. */
export async function runNginx(runDir: string, conf: string, port: number): Promise<Proc> {
  const log = join(runDir, 'nginx-error.log')
  const nginx = new Proc('nginx', findBinary('nginx')!, [
    '-p',
    `${runDir}/`,
    '-e',
    log,
    '-c',
    conf,
    '-g',
    'daemon off;',
  ])
  await waitForListen(port, nginx, [log])
  return nginx
}

/** Bundles the integration app as a CGI program (esbuild, CommonJS, as scripts/build.mjs does) plus launchers. */
export async function buildCgiBin(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  await build({
    entryPoints: [join(FIXTURES, 'cgi-entry.ts')],
    outfile: join(dir, 'app.cjs'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'warning',
    legalComments: 'none',
  })
  writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n')
  // Like cgi-bin/hello: an absolute interpreter (the server's PATH is not the user's) and a require of the bundle.
  const launcher = `#!${process.execPath}\n'use strict'\nrequire(__dirname + '/app.cjs')\n`
  for (const name of ['app', 'nph-app']) writeFileSync(join(dir, name), launcher, { mode: 0o755 })
  for (const name of readdirSync(dir)) chmodSync(join(dir, name), statSync(join(dir, name)).mode | 0o444)
}

/**
 * bin/tsgi.js runs dist/ when it exists, else the sources through tsx: a dist/ older than src/ means the
 * suite is testing old code. Returns a warning for that case.
 */
export function staleBuildWarning(): string | undefined {
  const built = join(ROOT, 'dist/cli/main.js')
  if (!existsSync(built)) return undefined
  const builtAt = statSync(built).mtimeMs
  const newer = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) => {
      const path = join(dir, entry.name)
      return entry.isDirectory() ? newer(path) : entry.name.endsWith('.ts') && statSync(path).mtimeMs > builtAt
    })
  return newer(join(ROOT, 'src'))
    ? 'integration: dist/ is older than src/ and bin/tsgi.js runs dist/: run `npm run build` (or remove dist/)'
    : undefined
}

/**
 * Starts `bin/tsgi.js fastcgi APP --listen <listen>` as the examples say: as root, it drops to the service
 * user `tsgi` once listening, and a Unix socket is tsgi:www-data 0660 (the web servers' workers run as
 * www-data). Not as root: as the current user, with no options.
 */
/** `logFile`: also append the responder's own log (its stderr) there, for checks that read it. */
export function startResponder(
  name: string,
  listen: string,
  cwd: string,
  extra: string[] = [],
  logFile?: string,
): Proc {
  const asRoot = serverUser() !== undefined
  if (asRoot) serviceUser()
  const owner = listen.startsWith('/') ? ['--socket-owner', 'tsgi:www-data', '--socket-mode', '0660'] : []
  const args = ['fastcgi', APP, '--listen', listen, ...(asRoot ? [...owner, '--user', 'tsgi'] : []), ...extra]
  // The command itself, as a user runs it: its shebang gives node the V8 flags.
  return new Proc(name, join(ROOT, 'bin/tsgi.js'), args, logFile === undefined ? { cwd } : { cwd, logFile })
}

/** The service user the examples drop to; .ci/run creates it (useradd --system tsgi). */
export function serviceUser(): void {
  if (
    !readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .some((line) => line.startsWith('tsgi:'))
  )
    throw new Error('integration: running as root needs a `tsgi` service user: useradd --system tsgi')
}

/** A self-signed certificate for 127.0.0.1 in `dir`: cert, key, and both in one PEM (HAProxy's `crt`). */
export function selfSignedCert(dir: string): { cert: string; key: string; pem: string } {
  const [cert, key, pem] = ['tls-cert.pem', 'tls-key.pem', 'tls.pem'].map((name) => join(dir, name)) as [
    string,
    string,
    string,
  ]
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2']
  const run = spawnSync(
    'openssl',
    [...args, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    { encoding: 'utf8' },
  )
  if (run.status !== 0) throw new Error(`integration: openssl could not make a certificate: ${run.stderr}`)
  writeFileSync(pem, readFileSync(cert, 'utf8') + readFileSync(key, 'utf8'))
  const user = serverUser()
  for (const file of [cert, key, pem]) {
    chmodSync(file, 0o600)
    if (user !== undefined) chownSync(file, user.uid, user.gid) // Caddy reads them as the server user
  }
  return { cert, key, pem }
}

/** `promise`, or a rejection naming `what` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** The tail of a log file, for failure messages. */
export function tail(path: string, chars = 3000): string {
  return existsSync(path) ? readFileSync(path, 'utf8').slice(-chars) : `(${path} does not exist)`
}
