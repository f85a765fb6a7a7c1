// Time limits on what the web server owes us (S-12): a request whose STDIN stops coming is
// cut after inputTimeoutMs; one that keeps trickling, or that waits on our own app, is not.
import { describe, expect, it } from 'vitest'
import type { App } from '../../../src/app.js'
import { begin, ended, params, RawPeer, responder, responseOf, stdin, vars } from './_raw.js'

/** Reads the whole body, then reports its length; records whether tsgi.signal fired. */
function reader(seen: { aborted?: boolean }): App {
  return async (environ, start) => {
    let length = 0
    try {
      for await (const chunk of environ['tsgi.input']) length += chunk.length
    } catch {
      // the body failed: the signal says why
    }
    seen.aborted = environ['tsgi.signal'].aborted
    start('200 OK', [['Content-Type', 'text/plain']])
    return [`read ${length}\n`]
  }
}

const settle = async (check: () => boolean, ms = 4000): Promise<void> => {
  // A failing test's bound, not a timing assertion.
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
}

describe('STDIN inactivity (S-12)', () => {
  it('a web server that stops sending STDIN mid-body loses the connection after inputTimeoutMs', async () => {
    const seen: { aborted?: boolean } = {}
    const server = await responder({ inputTimeoutMs: 200 }, reader(seen))
    try {
      const peer = await RawPeer.open(server.address)
      const body = new Uint8Array(100)
      peer.send(begin(1), params(1, vars('/', { method: 'POST', body })), stdin(1, body.subarray(0, 10), false))
      await peer.untilClosed(5000)
      await settle(() => seen.aborted !== undefined)
      expect(seen.aborted).toBe(true)
      expect(server.logs.join('\n')).toMatch(/no STDIN for 200 ms while a request waited for its body/)
    } finally {
      await server.close()
    }
  })

  it('a steady trickle keeps the request alive past inputTimeoutMs in total', async () => {
    const seen: { aborted?: boolean } = {}
    const server = await responder({ inputTimeoutMs: 300 }, reader(seen))
    try {
      const peer = await RawPeer.open(server.address)
      const body = new Uint8Array(60)
      peer.send(begin(1), params(1, vars('/', { method: 'POST', body })))
      for (let i = 0; i < 6; i++) {
        peer.send(stdin(1, body.subarray(i * 10, i * 10 + 10), false))
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      peer.send(stdin(1))
      const records = await peer.until(ended(1))
      expect(responseOf(records, 1).body.toString()).toBe('read 60\n')
      expect(seen.aborted).toBe(false)
      peer.destroy()
    } finally {
      await server.close()
    }
  })
})
