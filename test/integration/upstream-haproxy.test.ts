// HAProxy in front of two tsgi responders, from examples/haproxy-upstream.cfg as it is (leastconn, FastCGI
// health checks on /tsgi-ping, retries for GET only): both take traffic; SIGKILL one mid-load and no GET
// fails, HAProxy marks it DOWN, the survivor serves the rest, and the POST the dead one held comes back
// 502, not sent again. The responders serve the conformance app (/stats answers its pid, /sleep holds).
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
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  render,
  serverDir,
  skipMessage,
  sleep,
  startResponder,
  waitForListen,
  withTimeout,
} from './_harness.js'
import { client, get, type Sample } from './_http-load.js'
import { haproxyArgs } from './_servers.js'

const missing = missingBinaries(['haproxy'])
if (missing.length > 0) console.warn(skipMessage('HAProxy upstream', missing))

const CLIENTS = 8
const LOAD_MS = 4000
const KILL_AT_MS = 1000

interface Responder {
  proc: Proc
  port: number
  pid: number
}

/** The servers' states on HAProxy's statistics page (`;csv`): `a` → `UP`, `DOWN`, ... */
async function serverStates(statsPort: number): Promise<Record<string, string>> {
  const agent = new Agent()
  try {
    const { body } = await get(agent, statsPort, '/;csv')
    const states: Record<string, string> = {}
    for (const line of body.split('\n')) {
      const [proxy, server, , , , , , , , , , , , , , , , status] = line.split(',')
      if (proxy === 'tsgi' && server !== undefined && server !== 'BACKEND' && status !== undefined)
        states[server] = status
    }
    return states
  } finally {
    agent.destroy()
  }
}

async function until<T>(probe: () => Promise<T>, ok: (value: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms
  let value = await probe()
  while (!ok(value) && Date.now() < deadline) {
    await sleep(100)
    value = await probe()
  }
  return value
}

describe.skipIf(missing.length > 0 && !REQUIRE_SERVERS)('HAProxy: two responders, one killed mid-load', () => {
  let runDir = ''
  let haproxy: Proc | undefined
  let port = 0
  let statsPort = 0
  const responders: Responder[] = []
  const token = randomBytes(8).toString('hex')
  const tokenFile = (what: string): string => join('/tmp', `tsgi-it-${token}.${what}`)
  const log = (): string => readFileSync(join(runDir, 'haproxy.log'), 'utf8')

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('HAProxy upstream', missing).replace('skipped', 'but'))
    runDir = serverDir(makeRunDir())
    const docroot = join(runDir, 'htdocs')
    mkdirSync(docroot, { mode: 0o755 })
    const ports = [await freePort(), await freePort()]
    for (const [i, fcgiPort] of ports.entries()) {
      const proc = startResponder(`responder ${'AB'[i]}`, `127.0.0.1:${fcgiPort}`, runDir, [
        '--ping-path',
        '/tsgi-ping',
      ])
      responders.push({ proc, port: fcgiPort, pid: proc.child.pid ?? 0 })
    }
    await Promise.all(responders.map((r) => waitForListen(r.port, r.proc)))

    port = await freePort()
    statsPort = await freePort()
    const vars = {
      TSGI: join(ROOT, 'bin/tsgi.js'),
      APP: join(ROOT, 'test/fixtures/conformance-app.ts'),
      PORT: String(port),
      STATS_PORT: String(statsPort),
      FCGI_PORT_A: String(ports[0]),
      FCGI_PORT_B: String(ports[1]),
      DOCROOT: docroot,
    }
    const conf = render(join(ROOT, 'examples/haproxy-upstream.cfg'), vars, join(runDir, 'haproxy-upstream.cfg'))
    haproxy = new Proc('haproxy', '/bin/sh', haproxyArgs(conf, join(runDir, 'haproxy.log')))
    await waitForListen(port, haproxy)
    // Both servers pass their first health checks (rise 2, inter 1s).
    const states = await until(
      () => serverStates(statsPort),
      (s) => s.a === 'UP' && s.b === 'UP',
      10_000,
    )
    expect(states, log()).toEqual({ a: 'UP', b: 'UP' })
  }, 60_000)

  afterAll(async () => {
    await haproxy?.stop()
    for (const r of responders) await r.proc.stop()
    for (const what of ['started', 'signal', 'done']) rmSync(tokenFile(what), { force: true })
    if (runDir !== '') removeRunDir(runDir)
  })

  it('both responders take traffic', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    const pids = new Set<number>()
    try {
      for (let i = 0; i < 10; i++) {
        const { status, pid } = await get(agent, port, '/app/stats')
        expect(status).toBe(200)
        pids.add(pid ?? 0)
      }
    } finally {
      agent.destroy()
    }
    expect(pids).toEqual(new Set(responders.map((r) => r.pid)))
  })

  it('SIGKILL mid-load: no GET fails, HAProxy marks it DOWN; the POST it held gets 502, not resent', async () => {
    // A POST the app holds (/sleep answers after 20 s), in flight on one responder when that one dies.
    const post: Promise<Response & { at: number }> = request(port, `/app/sleep?token=${token}&ms=20000`, {
      method: 'POST',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: Buffer.from('order=1'),
    }).then((response) => ({ ...response, at: Date.now() }))
    post.catch(() => {}) // awaited below
    const sent = Date.now()
    while (!existsSync(tokenFile('started')) && Date.now() - sent < 5000) await sleep(20)
    expect(existsSync(tokenFile('started')), 'the POST reached no responder within 5 s').toBe(true)
    const victimPid = Number(readFileSync(tokenFile('started'), 'utf8'))
    const victim = responders.find((r) => r.pid === victimPid)
    const survivor = responders.find((r) => r.pid !== victimPid)
    if (victim === undefined || survivor === undefined) throw new Error(`the POST ran in pid ${victimPid}`)

    const samples: Sample[] = []
    const started = Date.now()
    const load = Promise.all(
      Array.from({ length: CLIENTS }, () => client(port, '/app/stats', () => Date.now() >= started + LOAD_MS, samples)),
    )
    await sleep(KILL_AT_MS)
    const killedAt = Date.now()
    process.kill(-victim.pid, 'SIGKILL')
    await victim.proc.exited
    const name = victim === responders[0] ? 'a' : 'b'
    const down = await until(
      () => serverStates(statsPort),
      (s) => s[name] === 'DOWN',
      5000,
    )
    const downAt = Date.now()
    await load
    const answer = await withTimeout(post, 8000, 'the POST')

    const after = samples.filter((s) => s.start > downAt)
    const failed = samples.filter((s) => s.status !== 200)
    console.log(
      `haproxy upstream: ${samples.length} GETs by ${CLIENTS} clients in ${LOAD_MS} ms, ${failed.length} failed; ` +
        `victim DOWN ${downAt - killedAt} ms after the kill; after that the survivor served ` +
        `${after.filter((s) => s.pid === survivor.pid).length} of ${after.length}; POST ${answer.status} ` +
        `${answer.at - killedAt} ms after the kill`,
    )
    expect(failed.slice(0, 5), `${failed.length} of ${samples.length} GETs failed`).toEqual([])
    expect(samples.length).toBeGreaterThan(50)
    expect(samples.filter((s) => s.end < killedAt && s.pid === victim.pid).length).toBeGreaterThan(0)
    expect(down[name], log()).toBe('DOWN')
    expect(after.length).toBeGreaterThan(0)
    expect(after.every((s) => s.pid === survivor.pid)).toBe(true)
    expect(log()).toMatch(new RegExp(`Server tsgi/${name} is DOWN`))
    // disable-l7-retry: the POST had reached the victim; HAProxy answers 502 and does not send it on.
    expect(answer.status, answer.body.toString()).toBe(502)
    expect(answer.at - killedAt).toBeLessThan(3000)
    expect(Number(readFileSync(tokenFile('started'), 'utf8'))).toBe(victim.pid)
  }, 30_000)
})
