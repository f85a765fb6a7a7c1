// The status page and the ping path, read the way operators and Prometheus read them: the JSON counts
// what was served (across a replaced worker too), OpenMetrics text parses, and a lone responder answers too.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { type PoolStatus, statusJson, statusOpenMetrics } from '../../src/pm/status.js'
import { sleep } from '../integration/_harness.js'
import { childPids, type Pool, removeApps, startPool, tempApp } from './_pool.js'

let pool: Pool | undefined
afterAll(removeApps)
afterEach(async () => {
  await pool?.stop()
  pool = undefined
})

function appFile(): string {
  return tempApp('one')
}

/** OpenMetrics text as families: TYPE/HELP once each, samples of declared families, `# EOF` last. */
function parseOpenMetrics(text: string): Map<string, { type: string; samples: Map<string, number> }> {
  const lines = text.split('\n')
  expect(lines.at(-1)).toBe('')
  expect(lines.at(-2)).toBe('# EOF')
  const families = new Map<string, { type: string; samples: Map<string, number> }>()
  for (const line of lines.slice(0, -2)) {
    const type = /^# TYPE ([a-z_]+) (gauge|counter)$/.exec(line)
    if (type) {
      expect(families.has(type[1]!)).toBe(false)
      families.set(type[1]!, { type: type[2]!, samples: new Map() })
      continue
    }
    if (/^# HELP [a-z_]+ .+$/.test(line)) continue
    const sample = /^([a-z_]+?)(_total)?(\{[^}]*\})? (-?\d+(?:\.\d+)?)$/.exec(line)
    expect(sample, line).not.toBeNull()
    const family = families.get(sample![1]!)
    expect(family, `sample of an undeclared family: ${line}`).toBeDefined()
    expect(sample![2] === '_total').toBe(family!.type === 'counter')
    family!.samples.set(sample![3] ?? '', Number(sample![4]))
  }
  return families
}

describe('--status-path and --ping-path', () => {
  it('counts requests, active ones, workers and restarts; JSON and OpenMetrics agree', async () => {
    pool = await startPool(appFile(), ['--workers', '2', '--status-path', '/tsgi-status', '--ping-path', '/ping'])
    const ping = await pool.get('/ping')
    expect(ping).toEqual({ status: 200, body: 'pong\n' })
    for (let i = 0; i < 20; i++) expect((await pool.get('/hello')).status).toBe(200)
    const slow = [pool.get('/slow?ms=2500'), pool.get('/slow?ms=2500'), pool.get('/slow?ms=2500')]
    // Until the three have reached their workers (a busy machine may take a moment).
    let during = JSON.parse((await pool.get('/tsgi-status')).body)
    for (let i = 0; i < 20 && during.active_requests < 4; i++) {
      await sleep(50)
      during = JSON.parse((await pool.get('/tsgi-status')).body)
    }
    expect(during.active_requests).toBe(4) // three slow ones and this status request
    expect(during.workers).toBe(2)
    expect(during.worker_list.map((w: { pid: number }) => w.pid).sort()).toEqual(childPids(pool.managerPid).sort())
    // Four requests on two workers: one of them had two at once.
    expect(during.worker_list.some((w: { max_active_requests: number }) => w.max_active_requests >= 2)).toBe(true)
    await Promise.all(slow)

    // A worker killed: its count stays in the pool's total, and the restart is counted by cause.
    const victim = childPids(pool.managerPid)[0]!
    process.kill(victim, 'SIGKILL')
    await pool.logLine(/worker 3 \(pid \d+\) ready/)
    const after = JSON.parse((await pool.get('/tsgi-status')).body)
    // 1 ping + 20 + 3 slow + the status request during; the victim's last heartbeat may miss a few.
    expect(after.requests).toBeGreaterThanOrEqual(20)
    expect(after.requests).toBeLessThanOrEqual(25)
    expect(after.restarts.crash).toBe(1)
    // The most one worker had at once: four requests on two workers put two on one of them.
    expect(after.max_active_requests).toBeGreaterThanOrEqual(2)

    const metrics = await pool.client.request({
      params: {
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '/tsgi-status',
        QUERY_STRING: '',
        HTTP_ACCEPT: 'application/openmetrics-text; version=1.0.0',
      },
    })
    expect(metrics.headers).toContainEqual([
      'Content-Type',
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    ])
    const families = parseOpenMetrics(await metrics.text())
    expect(families.get('tsgi_workers')!.samples.get('')).toBe(2)
    expect(families.get('tsgi_restarts')!.samples.get('{cause="crash"}')).toBe(1)
    expect(families.get('tsgi_pool_requests')!.samples.get('')).toBeGreaterThanOrEqual(after.requests)
    expect(families.get('tsgi_requests')!.samples.size).toBe(2)
    expect(families.get('tsgi_resident_memory_bytes')!.samples.get('{worker="manager"}')).toBeGreaterThan(10e6)
  })

  it('a lone responder (no --workers) serves both paths as a pool of one', async () => {
    const { FastcgiClient } = await import('../../src/hosts/fastcgi/client.js')
    const { Proc, ROOT, CLEAN_ENV, waitForListen } = await import('../integration/_harness.js')
    const dir = mkdtempSync(join(tmpdir(), 'tsgi-pm-'))
    const socket = join(dir, 'app.sock')
    const root = process.getuid?.() === 0 ? ['--allow-root'] : []
    const args = ['fastcgi', appFile(), '--listen', socket, '--status-path', '/s', '--ping-path', '/p', ...root]
    const proc = new Proc('lone responder', join(ROOT, 'bin/tsgi.js'), args, { env: CLEAN_ENV, cwd: dir })
    try {
      await waitForListen(socket, proc)
      const client = new FastcgiClient({ address: socket })
      const get = async (path: string) => {
        const response = await client.request({
          params: { REQUEST_METHOD: 'GET', SCRIPT_NAME: path, QUERY_STRING: '' },
        })
        return response.text()
      }
      expect(await get('/p')).toBe('pong\n')
      await get('/hello')
      const doc = JSON.parse(await get('/s'))
      expect(doc.workers).toBe(1)
      expect(doc.requests).toBe(2)
      expect(doc.worker_list[0].pid).toBe(proc.child.pid)
      await client.close()
    } finally {
      await proc.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('status documents', () => {
  const figures: PoolStatus = {
    pid: 10,
    listen: '/run/app.sock',
    startedAt: 0,
    targetWorkers: 2,
    generation: 1,
    managerRss: 40e6,
    retiredRequests: 7,
    maxActive: 3,
    restarts: { crash: 1, 'max-requests': 2, 'max-rss': 0, 'request-timeout': 0, reload: 0 },
    workers: [
      {
        id: 1,
        pid: 11,
        state: 'ready',
        generation: 1,
        startedAt: 0,
        requests: 5,
        active: 1,
        maxActive: 2,
        connections: 4,
        rss: 60e6,
        oldest: [],
      },
      {
        id: 2,
        pid: 12,
        state: 'ready',
        generation: 1,
        startedAt: 0,
        requests: 3,
        active: 0,
        maxActive: 1,
        connections: 2,
        rss: 50e6,
        oldest: [],
      },
    ],
  }

  it('JSON totals add the workers and the replaced ones', () => {
    const doc = JSON.parse(statusJson(figures, 5000))
    expect(doc).toMatchObject({ workers: 2, active_workers: 1, idle_workers: 1, requests: 15, active_requests: 1 })
    expect(doc.uptime_seconds).toBe(5)
    expect(doc.rss_bytes).toBe(150e6)
  })

  it('OpenMetrics: counters end in _total, one sample per worker, # EOF last', () => {
    const families = parseOpenMetrics(statusOpenMetrics(figures, 5000))
    expect(families.get('tsgi_pool_requests')!.samples.get('')).toBe(15)
    expect(families.get('tsgi_requests')!.samples.get('{worker="2",pid="12"}')).toBe(3)
    expect(families.get('tsgi_restarts')!.samples.get('{cause="max-requests"}')).toBe(2)
  })
})
