// nginx in front of two tsgi responders, from examples/nginx-upstream.conf as it is (least_conn, max_fails,
// keepalive, fastcgi_next_upstream): both take traffic; SIGKILL one mid-load and no GET fails, the
// survivor serves the rest, and the POST the dead one was holding comes back 502, not sent again.
// The responders serve the conformance app: /stats answers the pid that served it, /sleep holds a request.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Response, request } from './_client.js'
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
  sleep,
  startResponder,
  waitForListen,
  withTimeout,
} from './_harness.js'
import { client, get, type Sample } from './_http-load.js'

const missing = missingBinaries(['nginx'])
if (missing.length > 0) console.warn(skipMessage('nginx upstream', missing))

/** Closed-loop load: this many clients, each with its own kept-alive connection, one GET after another. */
const CLIENTS = 8
const LOAD_MS = 3000
/** When, into the load, one responder is killed. */
const KILL_AT_MS = 1000

interface Responder {
  proc: Proc
  port: number
  pid: number
}

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
  const responders: Responder[] = []
  const token = randomBytes(8).toString('hex')
  const tokenFile = (what: string): string => join('/tmp', `tsgi-it-${token}.${what}`)

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('nginx upstream', missing).replace('skipped', 'but'))
    runDir = serverDir(makeRunDir())
    const docroot = join(runDir, 'htdocs')
    mkdirSync(docroot, { mode: 0o755 })
    const ports = [await freePort(), await freePort()]
    for (const [i, port] of ports.entries()) {
      const proc = startResponder(`responder ${'AB'[i]}`, `127.0.0.1:${port}`, runDir)
      responders.push({ proc, port, pid: proc.child.pid ?? 0 })
    }
    await Promise.all(responders.map((r) => waitForListen(r.port, r.proc)))

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
    for (const what of ['started', 'signal', 'done']) rmSync(tokenFile(what), { force: true })
    if (runDir !== '') removeRunDir(runDir)
  })

  it('both responders take traffic (least_conn over idle servers goes round robin)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const pids: number[] = []
    try {
      for (let i = 0; i < 10; i++) {
        const { status, pid } = await get(agent, nginxPort, '/app/stats')
        expect(status).toBe(200)
        pids.push(pid ?? 0)
      }
    } finally {
      agent.destroy()
    }
    // /stats answers process.pid: the pid we started (the tsgi command runs in the process it starts as).
    expect(new Set(pids)).toEqual(new Set(responders.map((r) => r.pid)))
  })

  it('SIGKILL mid-load: no GET fails, the survivor serves the rest; the POST it held gets 502', async () => {
    const errorLog = join(runDir, 'nginx-error.log')
    // A POST the app holds (/sleep answers after 20 s, or when cancelled), sent before the load so that
    // it is in flight on one responder when that one dies. That responder is the victim: /sleep writes
    // the pid that took it to /tmp/tsgi-it-TOKEN.started.
    const postSent = Date.now()
    const post: Promise<Response & { at: number }> = request(nginxPort, `/app/sleep?token=${token}&ms=20000`, {
      method: 'POST',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: Buffer.from('order=1'),
    }).then((response) => ({ ...response, at: Date.now() }))
    post.catch(() => {}) // awaited below; a rejection before then is not unhandled
    while (!existsSync(tokenFile('started')) && Date.now() - postSent < 5000) await sleep(20)
    expect(existsSync(tokenFile('started')), 'the POST reached no responder within 5 s').toBe(true)
    const victimPid = Number(readFileSync(tokenFile('started'), 'utf8'))
    const victim = responders.find((r) => r.pid === victimPid)
    const survivor = responders.find((r) => r.pid !== victimPid)
    expect(victim, `the POST ran in pid ${victimPid}, not a responder we started`).toBeDefined()
    if (victim === undefined || survivor === undefined) return

    const samples: Sample[] = []
    const started = Date.now()
    const load = Promise.all(
      Array.from({ length: CLIENTS }, () =>
        client(nginxPort, '/app/stats', () => Date.now() >= started + LOAD_MS, samples),
      ),
    )
    await sleep(KILL_AT_MS)
    const killedAt = Date.now()
    process.kill(-victim.pid, 'SIGKILL') // its process group: the responder and anything it started
    await victim.proc.exited
    await load
    const answer = await withTimeout(post, 8000, 'the POST')

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
    expect(Number(readFileSync(tokenFile('started'), 'utf8'))).toBe(victim.pid)
    const posts = log.filter((entry) => entry.request.startsWith('POST '))
    expect(posts).toEqual([
      {
        request: `POST /app/sleep?token=${token}&ms=20000 HTTP/1.1`,
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
