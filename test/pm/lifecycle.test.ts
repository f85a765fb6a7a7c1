// The manager's answers to what operators do and what goes wrong: a request past --request-timeout (a
// blocked event loop and a hung promise), SIGHUP under load (new code, none failed; broken code kept
// out), SIGTTIN/SIGTTOU, a crash loop's emergency stop, and SIGTERM letting requests in flight finish.
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { sleep } from '../integration/_harness.js'
import { childPids, drive, type Pool, removeApps, startPool, tempApp, writeApp } from './_pool.js'

let pool: Pool | undefined
afterAll(removeApps)
afterEach(async () => {
  await pool?.stop()
  pool = undefined
})

function appFile(version: string, onLoad = ''): string {
  return tempApp(version, onLoad)
}

describe('--request-timeout', () => {
  it('kills a worker whose event loop a request blocks, logs it, and replaces it', async () => {
    pool = await startPool(appFile('one'), ['--workers', '2', '--request-timeout', '1s'])
    const before = childPids(pool.managerPid)
    const spin = pool.get('/spin?ms=30000').then(
      () => 'answered',
      () => 'cut',
    )
    const line = await pool.logLine(/request timeout: worker (\d) \(pid (\d+)\) has been blocked for [\d.]+ s/)
    expect(await spin).toBe('cut')
    expect(before).toContain(Number(line[2]))
    await pool.logLine(/worker 3 \(pid \d+\) ready/)
    expect(childPids(pool.managerPid)).not.toContain(Number(line[2]))
    expect((await pool.get('/hello')).status).toBe(200)
  })

  it('cuts a request that hangs while its worker runs on, and recycles that worker gracefully', async () => {
    pool = await startPool(appFile('one'), ['--workers', '1', '--request-timeout', '1s', '--status-path', '/s'])
    const hang = pool.get('/hang').then(
      () => 'answered',
      () => 'cut',
    )
    let stop = false
    const load = drive(pool, '/slow?ms=20', 3, () => stop)
    await pool.logLine(/request timeout: GET \/hang ran for [\d.]+ s \(--request-timeout 1\.00 s\); cut/)
    expect(await hang).toBe('cut')
    await pool.logLine(/worker 2 \(pid \d+\) ready/)
    await sleep(300)
    stop = true
    expect((await load).failed).toEqual([]) // the others on that worker finished
    const doc = JSON.parse((await pool.get('/s')).body)
    expect(doc.restarts['request-timeout']).toBe(1)
  })
})

describe('--slow-log', () => {
  it('logs a request slower than the threshold, with its request line', async () => {
    pool = await startPool(appFile('one'), ['--workers', '1', '--slow-log', '200ms'])
    await pool.get('/slow?ms=300')
    await pool.get('/hello')
    const line = await pool.logLine(/slow request: GET \/slow\?ms=300 took 0\.\d\d s/)
    expect(line[0]).toBeTruthy()
    expect(pool.proc.output).not.toMatch(/slow request: GET \/hello/)
  })
})

describe('signals', () => {
  it('SIGHUP under load: no request fails, and the new code answers afterwards', async () => {
    const app = appFile('one')
    pool = await startPool(app, ['--workers', '2'])
    const old = childPids(pool.managerPid)
    let stop = false
    const running = drive(pool, '/slow?ms=5', 8, () => stop)
    await sleep(300)
    writeApp(app, 'two')
    process.kill(pool.managerPid, 'SIGHUP')
    await pool.logLine(/reload done/)
    await sleep(300)
    stop = true
    const load = await running
    expect(load.failed).toEqual([])
    expect(load.bodies.some((b) => b.includes('version one'))).toBe(true)
    expect(load.bodies.at(-1)).toContain('version two')
    expect((await pool.get('/hello')).body).toContain('version two')
    const now = childPids(pool.managerPid)
    expect(now).toHaveLength(2)
    for (const pid of old) expect(now).not.toContain(pid)
  })

  it('SIGHUP with code that fails to load keeps the running workers', async () => {
    const app = appFile('one')
    pool = await startPool(app, ['--workers', '2'])
    const old = childPids(pool.managerPid).sort()
    writeApp(app, 'two', 'throw new Error("broken deploy")')
    process.kill(pool.managerPid, 'SIGHUP')
    await pool.logLine(/reload failed: new worker \d \(pid \d+\) exited with code 1 before it was ready/)
    expect(pool.proc.output).toContain('broken deploy')
    await sleep(500)
    expect(childPids(pool.managerPid).sort()).toEqual(old)
    expect((await pool.get('/hello')).body).toContain('version one')
  })

  it('SIGTTIN adds a worker, SIGTTOU removes one', async () => {
    pool = await startPool(appFile('one'), ['--workers', '2'])
    process.kill(pool.managerPid, 'SIGTTIN')
    await pool.logLine(/worker 3 \(pid \d+\) ready/)
    expect(childPids(pool.managerPid)).toHaveLength(3)
    // One at a time: POSIX merges a signal sent again before the first was handled.
    for (const left of [2, 1]) {
      process.kill(pool.managerPid, 'SIGTTOU')
      const deadline = Date.now() + 10_000
      while (childPids(pool.managerPid).length !== left && Date.now() < deadline) await sleep(50)
      expect(childPids(pool.managerPid)).toHaveLength(left)
    }
    process.kill(pool.managerPid, 'SIGTTOU') // never below one
    await sleep(300)
    expect(childPids(pool.managerPid)).toHaveLength(1)
    expect((await pool.get('/hello')).status).toBe(200)
  })

  it('SIGTERM lets requests in flight finish, then the manager exits 0 and removes its socket', async () => {
    pool = await startPool(appFile('one'), ['--workers', '2'])
    const slow = pool.get('/slow?ms=800')
    await sleep(200)
    process.kill(pool.managerPid, 'SIGTERM')
    expect((await slow).status).toBe(200)
    expect(await pool.proc.exited).toBe(0)
    const { existsSync } = await import('node:fs')
    expect(existsSync(pool.socket)).toBe(false)
  })
})

describe('crashes', () => {
  it('a crash loop trips the emergency stop: exit 1 with a line that says why', async () => {
    // Each worker serves, then dies 300 ms later: the manager backs off, then gives up.
    const app = appFile('one', 'setTimeout(() => process.exit(3), 300)')
    pool = await startPool(app, [
      '--workers',
      '1',
      '--emergency-restart-threshold',
      '3',
      '--emergency-restart-interval',
      '30s',
    ])
    await pool.logLine(/exited with code 3: starting another in 100 ms/)
    await pool.logLine(/exited with code 3: starting another in 200 ms/)
    await pool.logLine(/3 workers died within 30 s \(--emergency-restart-threshold 3\): giving up, exit 1/)
    expect(await pool.proc.exited).toBe(1)
  })

  it('a worker that cannot load the app stops the manager at start with the error', async () => {
    const app = appFile('one', 'throw new Error("no database")')
    await expect(startPool(app, ['--workers', '2'])).rejects.toThrow(/no database[\s\S]*before it was ready/)
  })
})
