// `npx tsx bench/bridges/in-process.ts tsgi|hono|express [N]`: one hello request after another through
// the engine with no socket (buildEnviron, a sink that drops bytes), µs per request, three timed runs of N
// after a warm-up: the cost of a bridge and its framework alone. Run it under each Node to compare them.
import type { App, Environ, StartResponse } from '../../src/app.js'
import { fromFetch, fromNode } from '../../src/bridges/index.js'
import { RequestAbort } from '../../src/core/abort.js'
import { runApp } from '../../src/core/engine.js'
import { BodyInput } from '../../src/core/input.js'
import { buildEnviron } from '../../src/protocol/cgi/environ.js'
import express from './express-hello.js'
import hono from './hono-hello.js'

const which = process.argv[2] ?? 'hono'
const N = Number(process.argv[3] ?? 20_000)
const native = (_environ: Environ, start: StartResponse) => {
  start('200 OK', [['Content-Type', 'text/plain']])
  return ['Hello world!\n']
}
const apps: Record<string, App> = { tsgi: native, hono: fromFetch(hono), express: fromNode(express) }
const app = apps[which]
if (app === undefined) throw new Error(`usage: in-process.ts ${Object.keys(apps).join('|')} [N]`)

const vars: Array<[string, string]> = [
  ['REQUEST_METHOD', 'GET'],
  ['SCRIPT_NAME', ''],
  ['REQUEST_URI', '/'],
  ['QUERY_STRING', ''],
  ['SERVER_NAME', 'localhost'],
  ['SERVER_PORT', '8080'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['HTTP_HOST', '127.0.0.1:8080'],
  ['HTTP_USER_AGENT', 'bench'],
  ['REMOTE_ADDR', '127.0.0.1'],
]
const sink = { head() {}, body() {}, end() {}, abort() {} }
const errors = { write: (message: string) => void process.stderr.write(message) }

async function once(): Promise<void> {
  const environ = buildEnviron(vars, {
    input: BodyInput.empty(),
    errors,
    signal: new RequestAbort(),
    multithread: false,
    multiprocess: true,
    runOnce: false,
  })
  await runApp(app!, environ, sink)
}

console.log(`node ${process.version}, ${which}`)
for (let i = 0; i < 5000; i++) await once()
for (let run = 0; run < 3; run++) {
  const began = performance.now()
  for (let i = 0; i < N; i++) await once()
  console.log(`${which}: ${(((performance.now() - began) * 1000) / N).toFixed(2)} µs/request`)
}
