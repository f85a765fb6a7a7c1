// The processes the rows talk to, started the way users start them: `tsgi front`, `tsgi fastcgi` and
// `tsgi serve` from this package's bin/tsgi.js (on Node with the flags of its shebang), and each runtime's own
// HTTP server answering the hello; ready once they say where.
import { readFileSync, writeFileSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { CLEAN_ENV, type Started, start, waitFor } from './procs.js'
import { type Runtime, type RuntimeName, suffix } from './runtimes.js'
import type { AppSpec } from './scripts.js'
import { fromSource, packageRoot, tsgiBin } from './where.js'

export interface Running {
  proc: Started
  /** The process whose CPU and memory are the server's. */
  pid: number
  port: number
}

export interface Responder {
  proc: Started
  pid: number
  socket: string
}

/** PATH for every child: `bin` (the bench's commands, if any), this node's directory, then ours. */
export function childPath(bin?: string): string {
  return [...(bin === undefined ? [] : [bin]), dirname(process.execPath), CLEAN_ENV.PATH ?? '/usr/bin:/bin'].join(
    delimiter,
  )
}

/** The environment of every child: PATH and HOME, and tsgi's sources when we run from them. */
export function childEnv(bin?: string): NodeJS.ProcessEnv {
  return { ...CLEAN_ENV, PATH: childPath(bin), ...(fromSource() ? { TSGI_FROM_SOURCE: '1' } : {}) }
}

/** The node flags of bin/tsgi.js's shebang (`#!/usr/bin/env -S node FLAGS`). */
export function shebangFlags(): string[] {
  const first = readFileSync(tsgiBin(), 'latin1').split('\n', 1)[0] ?? ''
  const words = first.replace(/^#!/, '').trim().split(/\s+/)
  const at = words.findIndex((word) => word === 'node' || word.endsWith('/node'))
  return at < 0 ? [] : words.slice(at + 1)
}

/** `tsgi ARGS` on `runtime` (default: this Node). */
function tsgi(args: string[], log: string, runtime?: Runtime, bin?: string): Started {
  const [command, ...flags] =
    runtime === undefined || runtime.name === 'node' ? [process.execPath, ...shebangFlags()] : runtime.argv
  return start(command!, [...flags, tsgiBin(), ...args], packageRoot(), childEnv(bin), log)
}

function appArgs(app: AppSpec): string[] {
  return [
    app.path,
    ...(app.exportName === 'default' ? [] : ['--export', app.exportName]),
    ...(app.shape === undefined ? [] : ['--shape', app.shape]),
    ...(app.stripScriptName ? ['--strip-script-name'] : []),
  ]
}

/** `tsgi front --cgi-bin DIR --fastcgi PREFIX=SOCKET...` on a free loopback port; `bin` leads its PATH. */
export async function startFront(
  dir: string,
  cgiBin: string,
  fastcgi: Array<[prefix: string, socket: string]>,
  bin: string,
): Promise<Running> {
  const args = ['front', '--host', '127.0.0.1', '--port', '0', '--cgi-bin', cgiBin]
  for (const [prefix, socket] of fastcgi) args.push('--fastcgi', `${prefix}=${socket}`)
  const proc = tsgi(args, join(dir, 'front.log'), undefined, bin)
  const m = await waitFor(proc, /tsgi front: http:\/\/127\.0\.0\.1:(\d+)\//, 20_000)
  return { proc, pid: proc.pid, port: Number(m[1]) }
}

/** `tsgi fastcgi APP --listen SOCKET`; its pid is the one it prints (bin/tsgi.js may restart itself). */
export async function startResponder(dir: string, app: AppSpec, name: string, runtime?: Runtime): Promise<Responder> {
  const socket = join(dir, `${name}.sock`)
  const root = process.getuid?.() === 0 ? ['--allow-root'] : []
  const proc = tsgi(['fastcgi', ...appArgs(app), '--listen', socket, ...root], join(dir, `${name}.log`), runtime)
  const m = await waitFor(proc, /FastCGI responder on (\S+) \(pid (\d+)/, 30_000)
  return { proc, pid: Number(m[2]), socket }
}

/** `tsgi serve APP --port 0`. */
export async function startDevServer(dir: string, app: AppSpec, runtime?: Runtime): Promise<Running> {
  const args = ['serve', ...appArgs(app), '--host', '127.0.0.1', '--port', '0']
  const proc = tsgi(args, join(dir, `serve${suffix(runtime?.name)}.log`), runtime)
  const m = await waitFor(proc, /on http:\/\/127\.0\.0\.1:(\d+)\//, 30_000)
  return { proc, pid: proc.pid, port: Number(m[1]) }
}

const HELLO = `'Hello world!\\n', { headers: { 'Content-Type': 'text/plain' } }`

/** A hello server in each runtime's own API, printing its port. */
const HTTP_HELLO: Record<RuntimeName, string> = {
  node: `'use strict'
const server = require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13' })
  res.end('Hello world!\\n')
})
server.listen(0, '127.0.0.1', () => console.log('http on 127.0.0.1:' + server.address().port))
`,
  bun: `const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(${HELLO}) })
console.log('http on 127.0.0.1:' + server.port)
`,
  deno: `Deno.serve(
  { hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log('http on 127.0.0.1:' + port) },
  () => new Response(${HELLO}),
)
`,
}

/** The runtime's own HTTP server (node:http, Bun.serve, Deno.serve) answering every request with the hello. */
export async function startHttp(dir: string, runtime: Runtime): Promise<Running> {
  const script = join(dir, `http-${runtime.name}.${runtime.name === 'node' ? 'cjs' : 'mjs'}`)
  writeFileSync(script, HTTP_HELLO[runtime.name])
  const [command, ...flags] = runtime.argv
  const proc = start(command!, [...flags, script], dir, childEnv(), join(dir, `http-${runtime.name}.log`))
  const m = await waitFor(proc, /http on 127\.0\.0\.1:(\d+)/, 30_000)
  return { proc, pid: proc.pid, port: Number(m[1]) }
}
