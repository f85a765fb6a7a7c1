// The life of a script's process: the timeout (C-21) and the client leaving kill its whole process group,
// grandchildren included; leaving the body early kills it; an unread body or a closed stdout still ends
// in a collected exit; and a thousand requests leave no child process behind (no zombies).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isTsgiError } from '../../../src/errors.js'
import { type CgiRequest, runCgiScript } from '../../../src/hosts/cgi/index.js'
import { asCgi, children, fixture, GET, pidsIn, procState, sleep, textOf, waitDead } from './_helpers.js'

let scratch: string
let files = 0
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tsgi-cgi-life-'))
})
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true })
})

/** hang.sh with a fresh pid file: it starts `sleep 1000` in its group and waits for it. */
function hang(env: Record<string, string>, more: Partial<CgiRequest> = {}): { request: CgiRequest; pidFile: string } {
  const pidFile = join(scratch, `pids-${++files}`)
  return { request: { script: fixture('hang.sh'), vars: GET, env: { PIDFILE: pidFile, ...env }, ...more }, pidFile }
}

async function expectGroupDead(pidFile: string): Promise<void> {
  const [script, grandchild] = await pidsIn(pidFile)
  expect(await waitDead(script)).toBe(true)
  expect(await waitDead(grandchild)).toBe(true)
}

describe('the timeout (C-21)', () => {
  it('is a 504 before the head, and kills the script and its grandchild', async () => {
    const { request, pidFile } = hang({}, { timeoutMs: 300 })
    const started = Date.now()
    const err = await runCgiScript(request).catch((e: unknown) => e)
    expect(isTsgiError(err, 'ERR_TIMEOUT')).toBe(true)
    expect(err).toMatchObject({ status: 504 })
    expect(Date.now() - started).toBeLessThan(3000)
    await expectGroupDead(pidFile)
  })

  it('after the head, cuts the body with ERR_TIMEOUT and reports timedOut', async () => {
    const { request, pidFile } = hang({ HEAD: '1' }, { timeoutMs: 400 })
    const response = asCgi(await runCgiScript(request))
    const chunks: string[] = []
    const err = await (async () => {
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk).toString())
    })().catch((e: unknown) => e)
    expect(chunks.join('')).toBe('started\n')
    expect(isTsgiError(err, 'ERR_TIMEOUT')).toBe(true)
    expect(await response.exit).toEqual({ code: null, signal: 'SIGTERM', timedOut: true, aborted: false })
    await expectGroupDead(pidFile)
  })

  it('counts time without progress: a script writing every 150 ms for 1.2 s is not cut at 500 ms', async () => {
    const ticker = join(scratch, 'ticker.sh')
    writeFileSync(
      ticker,
      '#!/bin/sh\nprintf "Content-Type: text/plain\\n\\n"\nfor i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.15; done\n',
      {
        mode: 0o755,
      },
    )
    const response = asCgi(await runCgiScript({ script: ticker, vars: GET, timeoutMs: 500 }))
    expect(await textOf(response.body)).toBe('1\n2\n3\n4\n5\n6\n7\n8\n')
    expect(await response.exit).toMatchObject({ code: 0, timedOut: false })
  })

  it('also ends a script that closed stdout early and kept running: the body ends, the exit comes later', async () => {
    const { request, pidFile } = hang({ HEAD: '1', CLOSE: '1' }, { timeoutMs: 500 })
    const response = asCgi(await runCgiScript(request))
    expect(await textOf(response.body)).toBe('started\n')
    expect(await response.exit).toMatchObject({ signal: 'SIGTERM', timedOut: true })
    await expectGroupDead(pidFile)
  })

  it('collects the exit of a script whose body nobody reads', async () => {
    const response = asCgi(
      await runCgiScript({ script: fixture('zeros.sh'), vars: GET, timeoutMs: 500 }), // 10 MiB: the pipe fills
    )
    expect(await response.exit).toMatchObject({ timedOut: true, signal: 'SIGTERM' })
  })
})

describe('the client leaving', () => {
  it('kills the script group through the signal after the head, and the body fails with ERR_ABORTED', async () => {
    const controller = new AbortController()
    const { request, pidFile } = hang({ HEAD: '1' }, { signal: controller.signal })
    const response = asCgi(await runCgiScript(request))
    await pidsIn(pidFile)
    controller.abort()
    expect(await response.exit).toEqual({ code: null, signal: 'SIGTERM', timedOut: false, aborted: true })
    const err = await textOf(response.body).catch((e: unknown) => e)
    expect(isTsgiError(err, 'ERR_ABORTED')).toBe(true)
    await expectGroupDead(pidFile)
  })

  it('before the head: the promise rejects with the signal’s reason and the group dies', async () => {
    const controller = new AbortController()
    const { request, pidFile } = hang({}, { signal: controller.signal })
    const pending = runCgiScript(request)
    await pidsIn(pidFile)
    const reason = new Error('client gone')
    controller.abort(reason)
    const err = await pending.catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_ABORTED', cause: reason })
    await expectGroupDead(pidFile)
  })

  it('leaving the body early (return()) kills the script group', async () => {
    const { request, pidFile } = hang({ HEAD: '1' })
    const response = asCgi(await runCgiScript(request))
    for await (const chunk of response.body) {
      expect(Buffer.from(chunk).toString()).toBe('started\n')
      break
    }
    expect(await response.exit).toMatchObject({ signal: 'SIGTERM', timedOut: false, aborted: false })
    await expectGroupDead(pidFile)
  })

  it('the body can be iterated once only', async () => {
    const response = asCgi(await runCgiScript({ script: fixture('no-read.sh'), vars: GET }))
    expect(await textOf(response.body)).toBe('ok')
    await expect(textOf(response.body)).rejects.toMatchObject({ code: 'ERR_BODY_CONSUMED' })
  })
})

describe('process hygiene', () => {
  it('1000 requests, 16 at a time, leave no child process and no zombie behind', async () => {
    const before = new Set(children().map(({ pid }) => pid))
    const request: CgiRequest = {
      script: fixture('emit.sh'),
      vars: GET,
      env: { EMIT: 'Content-Type: text/plain\\n\\nok' },
    }
    const one = async (): Promise<void> => {
      const response = asCgi(await runCgiScript(request))
      expect(await textOf(response.body)).toBe('ok')
      expect((await response.exit).code).toBe(0)
    }
    for (let done = 0; done < 1000; done += 16) {
      await Promise.all(Array.from({ length: Math.min(16, 1000 - done) }, one))
    }
    const left = children().filter(({ pid }) => !before.has(pid))
    expect(left).toEqual([])
    expect(children().filter(({ state }) => state === 'Z')).toEqual([])
  }, 60_000)

  it('sends the group SIGKILL 2 s after a SIGTERM it ignores', async () => {
    const pidFile = join(scratch, `pids-${++files}`)
    const request = { script: fixture('stubborn.sh'), vars: GET, timeoutMs: 200, env: { PIDFILE: pidFile } }
    const err = await runCgiScript(request).catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 504 })
    const [script, grandchild] = await pidsIn(pidFile)
    await sleep(1000)
    for (const pid of [script, grandchild]) expect(procState(pid)).toMatch(/^[RSD]$/) // SIGTERM ignored: alive
    expect(await waitDead(script)).toBe(true)
    expect(await waitDead(grandchild)).toBe(true)
  })
})
