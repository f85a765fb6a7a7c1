// What the two failover tests share (nginx upstream and HAProxy, each in front of two responders): starting
// the pair, a POST held in flight on one of them so that it dies with it, and which pids served whom.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { Agent } from 'node:http'
import { join } from 'node:path'
import { expect } from 'vitest'
import { type Response, request } from './_client.js'
import { freePort, type Proc, sleep, startResponder, waitForListen } from './_harness.js'
import { client, get, type Sample } from './_http-load.js'

export interface Responder {
  proc: Proc
  port: number
  pid: number
}

/** Two responders of the conformance app on TCP (A and B), listening. */
export async function startPair(runDir: string, extra: string[] = []): Promise<Responder[]> {
  const pair: Responder[] = []
  for (const name of ['A', 'B']) {
    const port = await freePort()
    const proc = startResponder(`responder ${name}`, `127.0.0.1:${port}`, runDir, extra)
    pair.push({ proc, port, pid: proc.child.pid ?? 0 })
  }
  await Promise.all(pair.map((r) => waitForListen(r.port, r.proc)))
  return pair
}

/** The pids that answered 10 GETs of `path` one after another on one kept connection. */
export async function pidsServing(port: number, path: string): Promise<Set<number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const pids = new Set<number>()
  try {
    for (let i = 0; i < 10; i++) {
      const { status, pid } = await get(agent, port, path)
      expect(status).toBe(200)
      pids.add(pid ?? 0)
    }
  } finally {
    agent.destroy()
  }
  return pids
}

export interface HeldPost {
  token: string
  /** The answer, with when it came. */
  answer: Promise<Response & { at: number }>
  /** The responder the POST reached, and the other one. */
  victim: Responder
  survivor: Responder
  /** The pid the app last recorded as having taken the POST (a resend would overwrite it). */
  takenBy(): number
  cleanup(): void
}

/**
 * A POST the app holds (/sleep answers after 20 s, or when cancelled), sent before the load so that it is in
 * flight on one responder when that one dies. /sleep writes the pid that took it to /tmp/tsgi-it-TOKEN.started.
 */
export async function holdPost(port: number, path: string, pair: Responder[]): Promise<HeldPost> {
  const token = randomBytes(8).toString('hex')
  const file = (what: string): string => join('/tmp', `tsgi-it-${token}.${what}`)
  const answer = request(port, `${path}?token=${token}&ms=20000`, {
    method: 'POST',
    headers: [['Content-Type', 'application/x-www-form-urlencoded']],
    body: Buffer.from('order=1'),
  }).then((response) => ({ ...response, at: Date.now() }))
  answer.catch(() => {}) // awaited by the test; a rejection before then is not unhandled
  const sent = Date.now()
  while (!existsSync(file('started')) && Date.now() - sent < 5000) await sleep(20)
  expect(existsSync(file('started')), 'the POST reached no responder within 5 s').toBe(true)
  const takenBy = (): number => Number(readFileSync(file('started'), 'utf8'))
  const victim = pair.find((r) => r.pid === takenBy())
  const survivor = pair.find((r) => r.pid !== takenBy())
  if (victim === undefined || survivor === undefined) throw new Error(`the POST ran in pid ${takenBy()}`)
  const cleanup = (): void => {
    for (const what of ['started', 'signal', 'done']) rmSync(file(what), { force: true })
  }
  return { token, answer, victim, survivor, takenBy, cleanup }
}

/** Closed-loop load: this many clients, each with its own kept-alive connection, one GET after another. */
export const CLIENTS = 8
/** When, into the load, the victim is killed. */
const KILL_AT_MS = 1000

/**
 * GETs of `path` by CLIENTS clients for `loadMs`; SIGKILL to the victim's process group (the responder and
 * anything it started) KILL_AT_MS in. `whileLoaded` runs after the kill, during the load.
 */
export async function loadAndKill(
  port: number,
  path: string,
  victim: Responder,
  loadMs: number,
  whileLoaded: () => Promise<void> = async () => {},
): Promise<{ samples: Sample[]; killedAt: number }> {
  const samples: Sample[] = []
  const started = Date.now()
  const until = (): boolean => Date.now() >= started + loadMs
  const load = Promise.all(Array.from({ length: CLIENTS }, () => client(port, path, until, samples)))
  await sleep(KILL_AT_MS)
  const killedAt = Date.now()
  process.kill(-victim.pid, 'SIGKILL')
  await victim.proc.exited
  await whileLoaded()
  await load
  return { samples, killedAt }
}
