// Apache (mod_cgid, running a cgi-bin) and nginx (FastCGI to a responder) for the web-server rows: a
// minimal config rendered into the bench's temp dir, run in the foreground on a free loopback port.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { childPids, processTree } from './proc-stats.js'
import { freePort, haveCommand, type Started, start } from './procs.js'
import { childEnv } from './servers.js'

export interface WebServer {
  proc: Started
  port: number
  /** Its own processes (master, workers, mod_cgid's daemon): the CGI scripts are their descendants. */
  own: number[]
}

const APACHE_MODULES = '/usr/lib/apache2/modules'
const isRoot = (): boolean => process.getuid?.() === 0

/** Why this machine cannot run the row, or undefined. */
export function apacheMissing(): string | undefined {
  if (!haveCommand('apache2')) return 'apache2 is not installed'
  if (!existsSync(join(APACHE_MODULES, 'mod_cgid.so'))) return `no mod_cgid in ${APACHE_MODULES}`
  return undefined
}

export function nginxMissing(): string | undefined {
  return haveCommand('nginx') ? undefined : 'nginx is not installed'
}

/**
 * mpm_event with one child, /cgi-bin/ from `cgiBin` through mod_cgid, kept connections without a cap. The
 * scripts get `cpu` (the CPU preload and its log) through SetEnv: mod_cgid's accounting loses their CPU.
 */
export async function startApache(
  dir: string,
  cgiBin: string,
  cpu: { preload: string; log: string },
): Promise<WebServer> {
  const port = await freePort()
  const modules = ['mpm_event', 'authz_core', 'alias', 'env', 'cgid'].map(
    (name) => `LoadModule ${name}_module ${APACHE_MODULES}/mod_${name}.so`,
  )
  const conf = [
    'ServerName 127.0.0.1',
    `Listen 127.0.0.1:${port}`,
    `PidFile ${dir}/apache.pid`,
    `DefaultRuntimeDir ${dir}`,
    `Mutex file:${dir} default`,
    `ErrorLog ${dir}/apache-error.log`,
    'LogLevel warn',
    // Root starts it; workers and CGI scripts run as the web server's user, as on a real server.
    ...(isRoot() ? ['User www-data', 'Group www-data'] : []),
    `DocumentRoot ${dir}`,
    ...modules,
    'StartServers 1',
    'ServerLimit 1',
    'ThreadsPerChild 16',
    'MaxRequestWorkers 16',
    'KeepAlive On',
    'MaxKeepAliveRequests 0',
    '<Directory />',
    '  Require all denied',
    '</Directory>',
    `ScriptSock ${dir}/cgid.sock`,
    `ScriptAlias /cgi-bin/ "${cgiBin}/"`,
    `<Directory "${cgiBin}">`,
    '  Options +ExecCGI',
    '  Require all granted',
    `  SetEnv NODE_OPTIONS "--require ${cpu.preload}"`,
    `  SetEnv TSGI_BENCH_CPU_FILE ${cpu.log}`,
    '</Directory>',
    '',
  ].join('\n')
  writeFileSync(join(dir, 'apache.conf'), conf)
  const proc = start('apache2', ['-DFOREGROUND', '-f', join(dir, 'apache.conf')], dir, childEnv())
  await ready(proc, port, () => processTree(proc.pid).length >= 3, join(dir, 'apache-error.log'))
  return { proc, port, own: processTree(proc.pid) }
}

/** One worker; /fcgi/ to the responder's socket over kept connections, SCRIPT_NAME /fcgi as under CGI. */
export async function startNginx(dir: string, socket: string): Promise<WebServer> {
  const port = await freePort()
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => {
    mkdirSync(join(dir, `nginx-${name}`), { recursive: true })
    return `  ${name}_temp_path ${dir}/nginx-${name};`
  })
  const params = [
    'QUERY_STRING $query_string',
    'REQUEST_METHOD $request_method',
    'CONTENT_TYPE $content_type',
    'CONTENT_LENGTH $content_length',
    'SCRIPT_NAME $fastcgi_script_name',
    'PATH_INFO $fastcgi_path_info',
    'REQUEST_URI $request_uri',
    'SERVER_PROTOCOL $server_protocol',
    'REQUEST_SCHEME $scheme',
    'GATEWAY_INTERFACE CGI/1.1',
    'SERVER_SOFTWARE nginx/$nginx_version',
    'REMOTE_ADDR $remote_addr',
    'REMOTE_PORT $remote_port',
    'SERVER_ADDR $server_addr',
    'SERVER_PORT $server_port',
    'SERVER_NAME $server_name',
    'HTTP_PROXY ""',
  ].map((line) => `      fastcgi_param ${line};`)
  const conf = [
    'daemon off;',
    'worker_processes 1;',
    // As root the worker stays root: the responder's socket is root's, mode 0600.
    ...(isRoot() ? ['user root;'] : []),
    `pid ${dir}/nginx.pid;`,
    `error_log ${dir}/nginx-error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    ...temp,
    `  upstream tsgi { server unix:${socket}; keepalive 32; }`,
    '  server {',
    `    listen 127.0.0.1:${port} backlog=1024;`,
    '    keepalive_requests 1000000;',
    '    location /fcgi/ {',
    '      fastcgi_split_path_info "(?s)^(/fcgi)(/.*)$";',
    '      fastcgi_keep_conn on;',
    '      fastcgi_pass tsgi;',
    ...params,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n')
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const args = ['-p', `${dir}/`, '-e', join(dir, 'nginx-error.log'), '-c', join(dir, 'nginx.conf')]
  const proc = start('nginx', args, dir, childEnv())
  await ready(proc, port, () => childPids(proc.pid).length > 0, join(dir, 'nginx-error.log'))
  return { proc, port, own: processTree(proc.pid) }
}

/** Waits until the server accepts connections and its processes are up; rejects with its error log. */
async function ready(proc: Started, port: number, started: () => boolean, log: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break
    if (started() && (await canConnect(port))) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const errors = existsSync(log) ? readFileSync(log, 'utf8').slice(-600) : ''
  throw new Error(`did not start: ${`${proc.stderr()}\n${errors}`.trim().slice(-600)}`)
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1')
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}
