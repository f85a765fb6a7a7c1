// HAProxy in front of two tsgi responders, from examples/haproxy-upstream.cfg as it is (leastconn, FastCGI
// health checks on /tsgi-ping, retries for GET only): both take traffic; SIGKILL one mid-load and no GET
// fails, HAProxy marks it DOWN, the survivor serves the rest, and the POST the dead one held comes back
// 502, not sent again. The responders serve the conformance app (/stats answers its pid, /sleep holds).
import { mkdirSync, readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIENTS, type HeldPost, holdPost, loadAndKill, pidsServing, type Responder, startPair } from './_failover.js'
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
  waitForListen,
  withTimeout,
} from './_harness.js'
import { get } from './_http-load.js'
import { haproxyArgs } from './_servers.js'

const missing = missingBinaries(['haproxy'])
if (missing.length > 0) console.warn(skipMessage('HAProxy upstream', missing))

const LOAD_MS = 4000

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
  let responders: Responder[] = []
  let held: HeldPost | undefined
  const log = (): string => readFileSync(join(runDir, 'haproxy.log'), 'utf8')

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('HAProxy upstream', missing).replace('skipped', 'but'))
    runDir = serverDir(makeRunDir())
    const docroot = join(runDir, 'htdocs')
    mkdirSync(docroot, { mode: 0o755 })
    responders = await startPair(runDir, ['--ping-path', '/tsgi-ping'])
    const ports = responders.map((r) => r.port)

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
    held?.cleanup()
    if (runDir !== '') removeRunDir(runDir)
  })

  it('both responders take traffic', async () => {
    expect(await pidsServing(port, '/app/stats')).toEqual(new Set(responders.map((r) => r.pid)))
  })

  it('SIGKILL mid-load: no GET fails, HAProxy marks it DOWN; the POST it held gets 502, not resent', async () => {
    held = await holdPost(port, '/app/sleep', responders)
    const { victim, survivor } = held
    const name = victim === responders[0] ? 'a' : 'b'
    let down: Record<string, string> = {}
    let downAt = 0
    const { samples, killedAt } = await loadAndKill(port, '/app/stats', victim, LOAD_MS, async () => {
      down = await until(
        () => serverStates(statsPort),
        (s) => s[name] === 'DOWN',
        5000,
      )
      downAt = Date.now()
    })
    const answer = await withTimeout(held.answer, 8000, 'the POST')

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
    expect(held.takenBy()).toBe(victim.pid)
  }, 30_000)
})
