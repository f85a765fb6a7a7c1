// The HTTP front rows: wrk (Debian's, one thread) as the HTTP reference generator, and nginx from a
// config rendered into a temp dir (foreground, one worker, keep-alive upstreams), stopped at the end.
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { childPids, cpuMs } from '../../src/bench/proc-stats.js'
import { freePort, run, type Started, start } from '../../src/bench/procs.js'

export interface WrkResult {
  rps: number
  p50us: number
  p99us: number
  requests: number
  errors: number
  seconds: number
  genCpuMs: number
  pidCpuMs: Record<string, number>
}

function toUs(value: string, unit: string): number {
  const n = Number(value)
  return unit === 'us' ? n : unit === 'ms' ? n * 1000 : unit === 's' ? n * 1e6 : unit === 'm' ? n * 6e7 : NaN
}

/**
 * wrk -t1 -cN -dS --latency URL. Its CPU comes from the shell that waited for it: after `wait`, the
 * shell's cutime+cstime (/proc/$$/stat fields 16-17) are wrk's, read by a builtin (no other child).
 */
export async function runWrk(url: string, conns: number, seconds: number, pids: number[]): Promise<WrkResult> {
  const script = `wrk -t1 -c${conns} -d${seconds}s --latency ${url}; read -r s < /proc/$$/stat; echo "STAT $s"`
  const before = pids.map(cpuMs)
  const t0 = performance.now()
  const out = await run('sh', ['-c', script], (seconds + 15) * 1000)
  const wall = (performance.now() - t0) / 1000
  const pidCpuMs: Record<string, number> = {}
  pids.forEach((pid, i) => {
    pidCpuMs[pid] = cpuMs(pid) - before[i]!
  })
  const requests = Number(/(\d+) requests in/.exec(out)?.[1])
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(out)
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(out)
  const errorsMatch = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  const errors = non2xx + (errorsMatch ? errorsMatch.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0)
  const stat = /STAT .*\) (.*)$/m.exec(out)?.[1]?.split(' ')
  const genCpuMs = stat ? (Number(stat[13]) + Number(stat[14])) * 10 : NaN
  if (!Number.isFinite(rps) || !p50 || !p99) throw new Error(`bench: cannot read wrk output: ${out}`)
  return {
    rps,
    requests,
    errors,
    seconds: Math.min(wall, seconds),
    p50us: toUs(p50[1]!, p50[2]!),
    p99us: toUs(p99[1]!, p99[2]!),
    genCpuMs,
    pidCpuMs,
  }
}

export interface Nginx {
  proc: Started
  port: number
  workerPid: number
}

/**
 * nginx 1 worker: /fcgi -> fastcgi_pass over a Unix socket with fastcgi_keep_conn on and an upstream
 * keepalive pool; /http -> proxy_pass to node:http with HTTP/1.1 keep-alive upstream connections (both upstreams on Unix sockets).
 */
export async function startNginx(dir: string, fcgiSocket: string, httpSocket: string): Promise<Nginx> {
  const port = await freePort()
  const conf = `
# Rendered by bench/fastcgi.ts; nginx -p ${dir} -c nginx.conf
daemon off;
master_process on;
worker_processes 1;
user root;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream tsgi_fcgi { server unix:${fcgiSocket}; keepalive 32; }
  upstream node_http { server unix:${httpSocket}; keepalive 32; }
  server {
    listen 127.0.0.1:${port} backlog=1024;
    keepalive_requests 1000000;
    location = /return { return 200 "Hello world!\\n"; }
    location /fcgi/ {
      fastcgi_pass tsgi_fcgi;
      fastcgi_keep_conn on;
      fastcgi_param QUERY_STRING $query_string;
      fastcgi_param REQUEST_METHOD $request_method;
      fastcgi_param CONTENT_TYPE $content_type;
      fastcgi_param CONTENT_LENGTH $content_length;
      fastcgi_param SCRIPT_NAME /;
      fastcgi_param REQUEST_URI $request_uri;
      fastcgi_param DOCUMENT_URI $document_uri;
      fastcgi_param DOCUMENT_ROOT $document_root;
      fastcgi_param SERVER_PROTOCOL $server_protocol;
      fastcgi_param REQUEST_SCHEME $scheme;
      fastcgi_param GATEWAY_INTERFACE CGI/1.1;
      fastcgi_param SERVER_SOFTWARE nginx/$nginx_version;
      fastcgi_param REMOTE_ADDR $remote_addr;
      fastcgi_param REMOTE_PORT $remote_port;
      fastcgi_param SERVER_ADDR $server_addr;
      fastcgi_param SERVER_PORT $server_port;
      fastcgi_param SERVER_NAME $server_name;
    }
    location /http/ {
      proxy_pass http://node_http/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const proc = start('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')])
  const deadline = Date.now() + 5000
  let workerPid: number | undefined
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) break
    workerPid = childPids(proc.pid)[0]
    if (workerPid !== undefined && (await canConnect(port))) return { proc, port, workerPid }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`bench: nginx did not start: ${proc.stderr().slice(-2000)}`)
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(port, '127.0.0.1')
    probe.once('connect', () => {
      probe.destroy()
      return resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}
