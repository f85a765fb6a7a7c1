// `tsgi fastcgi APP --workers N` as an operator runs it: N worker pids all serving on one socket, a worker
// killed under load replaced while the others never notice, recycling without a failed request, a blocked
// worker replaced, reload under load, scaling by signal, the emergency stop, and a clean stop.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { sleep } from '../integration/_harness.js'
import { childPids, drive, type Pool, removeApps, startPool, tempApp } from './_pool.js'

let pool: Pool | undefined
afterAll(removeApps)
afterEach(async () => {
  await pool?.stop()
  pool = undefined
})

async function start(args: string[], onLoad = '', version = 'one'): Promise<Pool> {
  const app = tempApp(version, onLoad)
  pool = await startPool(app, args)
  return pool
}

function status(p: Pool) {
  return p.get('/tsgi-status').then(({ body }) => JSON.parse(body))
}

describe('tsgi fastcgi --workers', () => {
  it('starts N workers, children of the manager, and all of them serve', async () => {
    const p = await start(['--workers', '3', '--status-path', '/tsgi-status'])
    const workers = childPids(p.managerPid)
    expect(workers).toHaveLength(3)
    // A connection per request: every worker accepts some (slow requests keep a worker busy meanwhile).
    let done = 0
    const load = await drive(p, '/slow?ms=20', 12, () => ++done > 150, { fresh: true })
    expect(load.failed).toEqual([])
    expect([...load.pids.keys()].sort()).toEqual([...workers].sort())
    const doc = await status(p)
    expect(doc.workers).toBe(3)
    expect(doc.worker_list.map((w: { pid: number }) => w.pid).sort()).toEqual([...workers].sort())
  })

  it('replaces a worker killed with SIGKILL under load; requests on the others never fail', async () => {
    const p = await start(['--workers', '2'])
    const [victim, survivor] = childPids(p.managerPid) as [number, number]
    let stop = false
    const running = drive(p, '/slow?ms=5', 8, () => stop)
    await sleep(500)
    process.kill(victim, 'SIGKILL')
    await p.logLine(new RegExp(`pid ${victim}\\) was killed by SIGKILL: starting another`))
    await p.logLine(/worker 3 \(pid \d+\) ready/)
    await sleep(500)
    stop = true
    const load = await running
    // Only what the dead worker had in flight may fail: at most one request per connection it held.
    expect(load.failed.length).toBeLessThanOrEqual(8)
    expect(load.pids.get(survivor)).toBeGreaterThan(0)
    const now = childPids(p.managerPid)
    expect(now).toHaveLength(2)
    expect(now).toContain(survivor)
    expect(now).not.toContain(victim)
  })

  it('recycles after --max-requests (jitter 0) without failing a request', async () => {
    const p = await start([
      '--workers',
      '2',
      '--max-requests',
      '40',
      '--max-requests-jitter',
      '0',
      '--status-path',
      '/tsgi-status',
    ])
    let n = 0
    // A worker past its limit serves on until its replacement is ready: capacity never drops.
    const load = await drive(p, '/slow?ms=10', 6, () => ++n > 500)
    expect(load.failed).toEqual([])
    await p.logLine(/asks to be replaced: served 40 requests \(--max-requests\)/)
    const deadline = Date.now() + 10_000
    let doc = await status(p)
    while (doc.restarts['max-requests'] < 3 && Date.now() < deadline) {
      await sleep(200)
      doc = await status(p)
    }
    expect(doc.restarts['max-requests']).toBeGreaterThanOrEqual(3)
    expect(doc.requests).toBeGreaterThanOrEqual(500) // replaced workers' requests stay counted
    expect(load.pids.size).toBeGreaterThan(3)
    expect(doc.workers).toBe(2)
  })

  it('replaces a worker whose RSS passes --max-rss once its requests finish', async () => {
    const p = await start(['--workers', '1', '--max-rss', '150m', '--status-path', '/tsgi-status'])
    const before = childPids(p.managerPid)
    expect((await p.get('/grow?mb=200')).status).toBe(200)
    await p.logLine(/asks to be replaced: RSS \d+ MiB is over --max-rss 150 MiB/)
    let stop = false
    const running = drive(p, '/hello', 4, () => stop)
    await p.logLine(/worker 2 \(pid \d+\) ready/)
    await sleep(1500)
    stop = true
    const load = await running
    expect(load.failed).toEqual([])
    expect(childPids(p.managerPid)).not.toEqual(before)
    expect((await status(p)).restarts['max-rss']).toBe(1)
  })
})
