// Starts each web server from its example file: render the placeholders into the run dir, launch the
// server in the foreground (apache2 -DFOREGROUND, nginx daemon off, lighttpd -D, caddy run, haproxy -db,
// h2o), wait for its port.
import { spawnSync } from 'node:child_process'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import {
  APACHE_MODULES,
  APP,
  CLEAN_ENV,
  findBinary,
  freePort,
  Proc,
  ROOT,
  render,
  serverDir,
  serverUser,
  waitForListen,
} from './_harness.js'

/** Values for the example files' placeholders that every server shares. */
export interface Shared {
  RUNDIR: string
  /** The responder's socket directory: its user's, searchable by the web servers' group (0750). */
  SOCKDIR: string
  DOCROOT: string
  CGI_BIN: string
  FCGI_PORT: string
  /** A self-signed certificate for 127.0.0.1 (the HTTPS listeners of Caddy, HAProxy and h2o). */
  TLS_CERT?: string
  TLS_KEY?: string
  TLS_PEM?: string
}

export interface Server {
  name: string
  proc: Proc
  port: number
  /** The HTTPS port, for servers whose example has one. */
  tlsPort?: number
  logs: string[]
  stop(): Promise<number | null>
}

/** Placeholders a test may set itself: the tsgi command and the app (default: this checkout's). */
export type Overrides = Partial<Record<'TSGI' | 'APP', string>>

function vars(shared: Shared, port: number, overrides: Overrides): Record<string, string> {
  return { ...shared, TSGI: join(ROOT, 'bin/tsgi.js'), APP, ...overrides, PORT: String(port), MODULES: APACHE_MODULES }
}

async function launch(
  name: string,
  port: number,
  binary: string,
  args: string[],
  logs: string[],
  options: { env?: Record<string, string>; uid?: number; gid?: number } = {},
): Promise<Server> {
  const path = findBinary(binary)
  if (path === undefined) throw new Error(`integration: ${binary} is not installed`)
  const proc = new Proc(name, path, args, options)
  try {
    await waitForListen(port, proc, logs)
  } catch (err) {
    await proc.stop()
    throw err
  }
  return { name, proc, port, logs, stop: () => proc.stop() }
}

/** `env`: Apache's own environment, which its CGI scripts inherit PATH from (default CLEAN_ENV). */
export async function startApache(
  shared: Shared,
  overrides: Overrides = {},
  env?: Record<string, string>,
): Promise<Server> {
  const port = await freePort()
  const conf = render(
    join(ROOT, 'apache.conf.example'),
    vars(shared, port, overrides),
    join(shared.RUNDIR, 'apache.conf'),
  )
  const logs = [join(shared.RUNDIR, 'apache-error.log')]
  return launch('apache2', port, 'apache2', ['-DFOREGROUND', '-f', conf], logs, env === undefined ? {} : { env })
}

export async function startNginx(shared: Shared, overrides: Overrides = {}): Promise<Server> {
  const port = await freePort()
  const conf = render(
    join(ROOT, 'examples/nginx.conf'),
    vars(shared, port, overrides),
    join(shared.RUNDIR, 'nginx.conf'),
  )
  const log = join(shared.RUNDIR, 'nginx-error.log')
  return launch('nginx', port, 'nginx', ['-p', `${shared.RUNDIR}/`, '-e', log, '-c', conf, '-g', 'daemon off;'], [log])
}

export async function startLighttpd(shared: Shared, overrides: Overrides = {}): Promise<Server> {
  const port = await freePort()
  const conf = render(
    join(ROOT, 'examples/lighttpd.conf'),
    vars(shared, port, overrides),
    join(shared.RUNDIR, 'lighttpd.conf'),
  )
  const logs = [join(shared.RUNDIR, 'lighttpd-error.log'), join(shared.RUNDIR, 'lighttpd-breakage.log')]
  return launch('lighttpd', port, 'lighttpd', ['-D', '-f', conf], logs)
}

/** Caddy has no user setting: run it as the web servers' user, as Debian's caddy.service runs it as `caddy`. */
export async function startCaddy(shared: Shared): Promise<Server> {
  const port = await freePort()
  const tlsPort = await freePort()
  const values = { ...vars(shared, port, {}), TLS_PORT: String(tlsPort) }
  const conf = render(join(ROOT, 'examples/Caddyfile'), values, join(shared.RUNDIR, 'Caddyfile'))
  // Where Caddy keeps its autosaved config (caddy.service sets HOME=/var/lib/caddy for the same reason).
  const home = serverDir(join(shared.RUNDIR, 'caddy-home'))
  const args = ['run', '--config', conf, '--adapter', 'caddyfile']
  const options = { env: { ...CLEAN_ENV, HOME: home }, ...serverUser() }
  const server = await launch('caddy', port, 'caddy', args, [join(shared.RUNDIR, 'caddy-error.log')], options)
  return { ...server, tlsPort }
}

/** `haproxy -db -f CONF` with its log (the examples' `log stdout`) sent to `log` by a shell, for the checks. */
export function haproxyArgs(conf: string, log: string): string[] {
  const haproxy = findBinary('haproxy')
  if (haproxy === undefined) throw new Error('integration: haproxy is not installed')
  return ['-c', 'exec "$0" -db -f "$1" >> "$2" 2>&1', haproxy, conf, log]
}

export async function startHaproxy(shared: Shared): Promise<Server> {
  const port = await freePort()
  const tlsPort = await freePort()
  const values = { ...vars(shared, port, {}), TLS_PORT: String(tlsPort) }
  const conf = render(join(ROOT, 'examples/haproxy.cfg'), values, join(shared.RUNDIR, 'haproxy.cfg'))
  const log = join(shared.RUNDIR, 'haproxy.log')
  return { ...(await launch('haproxy', port, '/bin/sh', haproxyArgs(conf, log), [log])), tlsPort }
}

/**
 * h2o makes directories in /tmp whatever TMPDIR says (fastcgi.spawn's socket, `h2o.fcgisock.*`; its OpenSSL
 * helper's, `openssl-privsep.*`) and leaves them when stopped: the ones this h2o made go when it stops.
 */
export async function startH2o(shared: Shared): Promise<Server> {
  const port = await freePort()
  const tlsPort = await freePort()
  const values = { ...vars(shared, port, {}), TLS_PORT: String(tlsPort) }
  const conf = render(join(ROOT, 'examples/h2o.conf'), values, join(shared.RUNDIR, 'h2o.conf'))
  const before = new Set(h2oTemps())
  const server = await launch('h2o', port, 'h2o', ['-c', conf], [join(shared.RUNDIR, 'h2o-error.log')])
  const stop = async (): Promise<number | null> => {
    const code = await server.stop()
    for (const dir of h2oTemps()) if (!before.has(dir)) rmSync(join('/tmp', dir), { recursive: true, force: true })
    return code
  }
  return { ...server, stop, tlsPort }
}

function h2oTemps(): string[] {
  return readdirSync('/tmp').filter((name) => name.startsWith('h2o.fcgisock.') || name.startsWith('openssl-privsep.'))
}

/** `name version` lines for the table, without build dates (the file must not change run to run). */
export function serverVersions(): string[] {
  const out: string[] = [`Node.js ${process.version}`]
  const probe = (binary: string, args: string[], pattern: RegExp, label = ''): void => {
    const path = findBinary(binary)
    if (path === undefined) return
    const run = spawnSync(path, args, { encoding: 'utf8' })
    const match = pattern.exec(`${run.stdout}${run.stderr}`) // nginx -v prints to stderr
    if (match?.[1] !== undefined) out.push(`${label}${match[1]}`)
  }
  probe('apache2', ['-v'], /Server version: (\S+)/)
  probe('nginx', ['-v'], /nginx version: (\S+)/)
  probe('lighttpd', ['-v'], /^(lighttpd\/\S+)/m)
  probe('caddy', ['version'], /^v?(\d+\.\d+\.\d+)/m, 'Caddy/')
  probe('haproxy', ['-v'], /^HAProxy version (\S+)/m, 'HAProxy/')
  probe('h2o', ['--version'], /^h2o version (\S+)/m, 'h2o/')
  return out
}
