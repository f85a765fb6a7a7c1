// nginx in front of two tsgi responders, from examples/nginx-upstream.conf as it is (least_conn, max_fails,
// keepalive, fastcgi_next_upstream): both take traffic; SIGKILL one mid-load and no GET fails, the
// survivor serves the rest, and the POST the dead one was holding comes back 502, not sent again.
// The responders serve the conformance app: /stats answers the pid that served it, /sleep holds a request.
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, type HeldPost, holdPost, loadAndKill, pidsServing, type Responder, startPair } from './_failover.js'
import {
  freePort,
  makeRunDir,
  missingBinaries,
  type Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  render,
  runNginx,
  serverDir,
  skipMessage,
  withTimeout,
} from './_harness.js'
import type { Sample } from './_http-load.js'

const missing = missingBinaries(['nginx'])
if (missing.length > 0) console.warn(skipMessage('nginx upstream', missing))

/** How long the load runs. */
const LOAD_MS = 3000

/** nginx's access log (examples/nginx-upstream.conf's `upstream` format), one object per request. */
function accessLog(path: string): Array<{ request: string; status: number; addrs: string[]; statuses: string[] }> {
  const out = []
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /"([^"]*)" (\d{3}) upstream=(.*) upstream_status=(.*) upstream_time=/.exec(line)
    if (match === null) continue
    out.push({
      request: match[1]!,
      status: Number(match[2]),
      addrs: match[3]!.split(', '),
      statuses: match[4]!.split(', '),
    })
  }
  return out
}

describe.skipIf(missing.length > 0 && !REQUIRE_SERVERS)('nginx upstream: two responders, one killed mid-load', () => {
  let runDir = ''
  let nginx: Proc | undefined
  let nginxPort = 0
  let responders: Responder[] = []
  let held: HeldPost | undefined

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('nginx upstream', missing).replace('skipped', 'but'))
    runDir = serverDir(makeRunDir())
    const docroot = join(runDir, 'htdocs')
    mkdirSync(docroot, { mode: 0o755 })
    responders = await startPair(runDir)
    const ports = responders.map((r) => r.port)

    nginxPort = await freePort()
    const conf = render(
      join(ROOT, 'examples/nginx-upstream.conf'),
      {
        TSGI: join(ROOT, 'bin/tsgi.js'),
        APP: join(ROOT, 'test/fixtures/conformance-app.ts'),
        PORT: String(nginxPort),
        FCGI_PORT_A: String(ports[0]),
        FCGI_PORT_B: String(ports[1]),
        RUNDIR: runDir,
        DOCROOT: docroot,
      },
      join(runDir, 'nginx-upstream.conf'),
    )
    nginx = await runNginx(runDir, conf, nginxPort)
  }, 60_000)

  afterAll(async () => {
    await nginx?.stop()
    for (const r of responders) await r.proc.stop()
    held?.cleanup()
    if (runDir !== '') removeRunDir(runDir)
  })

  it('both responders take traffic (least_conn over idle servers goes round robin)', async () => {
    // /stats answers process.pid: the pid we started (the tsgi command runs in the process it starts as).
    expect(await pidsServing(nginxPort, '/app/stats')).toEqual(new Set(responders.map((r) => r.pid)))
  })

  it('SIGKILL mid-load: no GET fails, the survivor serves the rest; the POST it held gets 502', async () => {
    const errorLog = join(runDir, 'nginx-error.log')
    held = await holdPost(nginxPort, '/app/sleep', responders)
    const { victim, survivor } = held
    const { samples, killedAt } = await loadAndKill(nginxPort, '/app/stats', victim, LOAD_MS)
    const answer = await withTimeout(held.answer, 8000, 'the POST')

    const before = samples.filter((s) => s.end < killedAt)
    const after = samples.filter((s) => s.start > killedAt)
    const count = (list: Sample[], pid: number): number => list.filter((s) => s.pid === pid).length
    const log = accessLog(join(runDir, 'nginx-access.log'))
    const retried = log.filter((entry) => entry.addrs.length > 1)
    const addr = (r: Responder): string => `127.0.0.1:${r.port}`
    console.log(
      `upstream: ${samples.length} GETs in ${LOAD_MS} ms by ${CLIENTS} clients; before the kill ` +
        `victim ${count(before, victim.pid)}, survivor ${count(before, survivor.pid)}; after it survivor ` +
        `${count(after, survivor.pid)} of ${after.length}; nginx retried ${retried.length} request(s) ` +
        `(${retried.map((e) => e.statuses.join(',')).join(' ')}); POST ${answer.status} ` +
        `${answer.at - killedAt} ms after the kill; error log: ` +
        `${(readFileSync(errorLog, 'utf8').match(/\[error\]/g) ?? []).length} [error], ` +
        `${(readFileSync(errorLog, 'utf8').match(/temporarily disabled/g) ?? []).length} "temporarily disabled"`,
    )

    // Every GET answered 200: the requests in flight on the victim, and those nginx sent it before it was
    // marked failed (connection refused), went to the survivor instead (fastcgi_next_upstream error).
    const failed = samples.filter((s) => s.status !== 200)
    expect(failed.slice(0, 5), `${failed.length} of ${samples.length} GETs failed`).toEqual([])
    expect(samples.length).toBeGreaterThan(50)
    // The victim was taking load until it died; everything that started after, the survivor served.
    expect(count(before, victim.pid)).toBeGreaterThan(0)
    expect(count(before, survivor.pid)).toBeGreaterThan(0)
    expect(after.length).toBeGreaterThan(0)
    expect(count(after, survivor.pid)).toBe(after.length)
    // What nginx logged agrees: a retried request is a GET that went to the victim and then the survivor.
    // There are at least two: the victim is marked failed only after max_fails=3 errors, and the POST
    // is one of them.
    expect(retried.length).toBeGreaterThanOrEqual(2)
    for (const entry of retried) {
      expect(entry.request).toMatch(/^GET /)
      expect(entry.addrs).toEqual([addr(victim), addr(survivor)])
      expect(entry.status).toBe(200)
    }

    // The POST had reached the victim (u->request_sent in nginx) when it died: nginx does not send a
    // POST, PATCH or LOCK to the next server then (no `non_idempotent` in fastcgi_next_upstream), since
    // the app may have acted on it. The client gets nginx's 502 at once, not the survivor's answer after
    // 20 s; the survivor never saw it (it would have overwritten .started with its pid); nginx asked
    // the victim alone.
    expect(answer.status, answer.body.toString()).toBe(502)
    expect(answer.at - killedAt).toBeLessThan(3000)
    expect(held.takenBy()).toBe(victim.pid)
    const posts = log.filter((entry) => entry.request.startsWith('POST '))
    expect(posts).toEqual([
      {
        request: `POST /app/sleep?token=${held.token}&ms=20000 HTTP/1.1`,
        status: 502,
        addrs: [addr(victim)],
        statuses: ['502'],
      },
    ])
    expect(readFileSync(errorLog, 'utf8')).toMatch(
      /(upstream prematurely closed|recv\(\) failed)[^\n]*request: "POST \/app\/sleep/,
    )
  }, 20_000)
})
