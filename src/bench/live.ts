// How each row is reached and measured once its processes run: the port and path its requests go to, the
// processes whose CPU counts for it and which of them is the server's, and when a CGI row's scripts are gone.
import type { GenResult } from './loadgen.js'
import type { Mode } from './modes.js'
import { childPids, processTree } from './proc-stats.js'
import type { RuntimeName } from './runtimes.js'
import type { Made } from './scripts.js'
import type { Responder, Running } from './servers.js'
import type { WebServer } from './webservers.js'

export interface Live {
  mode: Mode
  /** The row's name (`fastcgi (bun)`) and the runtime serving it. */
  name: string
  runtime: RuntimeName
  skip?: string
  /** Where its HTTP requests go (absent for in-process), and the path that reaches the app's root. */
  port?: number
  mount: string
  /** Processes whose CPU the generator reads at the window edges: own (utime+stime) and reaped children's. */
  pids: number[]
  reaped: number[]
  /** CGI rows: requests still running when a window ends are dropped; true once their processes are gone. */
  settled?: () => boolean
  /** The server's and the front's CPU (ms) of one window. */
  split: (r: GenResult) => { server: number; front?: number }
  /** Resident rows: the worker whose peak RSS counts. */
  worker?: number
  /** CGI rows: the script whose per-request peak RSS counts. */
  script?: string
}

export type Attempt<T> = T | { skip: string }
export type Apache = WebServer & { scripts: () => { runs: number; ms: number } }

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

export function frontCgi(none: Live, front: Attempt<Running>, made: Made | undefined): Live {
  if (made === undefined) return { ...none, skip: 'no script' }
  if ('skip' in made) return { ...none, skip: made.skip }
  if ('skip' in front) return { ...none, skip: `the front did not start: ${front.skip}` }
  const name = made.script.split('/').pop()!
  // Children the front has between requests (tsx's esbuild service, from the sources) are not scripts.
  const resident = new Set(childPids(front.pid))
  return {
    ...none,
    port: front.port,
    mount: `/cgi-bin/${name}`,
    pids: [front.pid],
    reaped: [front.pid],
    split: (r) => ({ server: r.reapedCpuMs[front.pid]!, front: r.pidCpuMs[front.pid] }),
    settled: () => childPids(front.pid).every((pid) => resident.has(pid)),
    script: made.script,
  }
}

/** The responder mounted at `prefix` on the front. */
export function fastcgi(none: Live, front: Attempt<Running>, responder: Attempt<Responder>, prefix: string): Live {
  if ('skip' in responder) return { ...none, skip: `the responder did not start: ${responder.skip}` }
  if ('skip' in front) return { ...none, skip: `the front did not start: ${front.skip}` }
  return {
    ...none,
    port: front.port,
    mount: prefix,
    pids: [responder.pid, front.pid],
    split: (r) => ({ server: r.pidCpuMs[responder.pid]!, front: r.pidCpuMs[front.pid] }),
    worker: responder.pid,
  }
}

/** An HTTP server of its own: the dev server, or the runtime's hello server. */
export function resident(none: Live, server: Attempt<Running>, what: string): Live {
  if ('skip' in server) return { ...none, skip: `${what} did not start: ${server.skip}` }
  const pid = server.pid
  return { ...none, port: server.port, pids: [pid], split: (r) => ({ server: r.pidCpuMs[pid]! }), worker: pid }
}

/** Apache's own CPU from /proc; the scripts' from what each wrote at exit, averaged over the window's runs. */
export function webCgi(none: Live, apache: Attempt<Apache>, build: Made | undefined): Live {
  if ('skip' in apache) return { ...none, skip: apache.skip }
  const own = apache.own
  const front = (r: GenResult): number => sum(own.map((pid) => r.pidCpuMs[pid] ?? 0))
  const scripts = (r: GenResult): number => {
    const { runs, ms } = apache.scripts()
    return runs === 0 ? Number.NaN : (ms / runs) * r.requests
  }
  return {
    ...none,
    port: apache.port,
    mount: '/cgi-bin/build',
    pids: own,
    split: (r) => ({ server: scripts(r), front: front(r) }),
    settled: () => processTree(apache.proc.pid).length <= own.length,
    ...(build !== undefined && 'script' in build ? { script: build.script } : {}),
  }
}

export function webFastcgi(none: Live, both: Attempt<{ nginx: WebServer; responder: Responder }>): Live {
  if ('skip' in both) return { ...none, skip: both.skip }
  const { nginx, responder } = both
  return {
    ...none,
    port: nginx.port,
    mount: '/fcgi',
    pids: [responder.pid, ...nginx.own],
    split: (r) => ({ server: r.pidCpuMs[responder.pid]!, front: sum(nginx.own.map((pid) => r.pidCpuMs[pid] ?? 0)) }),
    worker: responder.pid,
  }
}
