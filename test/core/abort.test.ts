// RequestAbort: tsgi.signal made only when read (SPEC §3.3), and right whenever it is read.
import { describe, expect, it } from 'vitest'
import type { Environ } from '../../src/app.js'
import { abortStateOf, RequestAbort, setSignal } from '../../src/core/abort.js'

describe('RequestAbort', () => {
  it('a signal read before the abort fires with the reason', () => {
    const state = new RequestAbort()
    const signal = state.signal
    const reasons: unknown[] = []
    signal.addEventListener('abort', () => reasons.push(signal.reason))
    state.abort('client gone')
    expect([signal.aborted, reasons]).toEqual([true, ['client gone']])
  })

  it('a signal read only after the abort is already aborted, with the reason', () => {
    const state = new RequestAbort()
    state.abort('client gone')
    expect([state.signal.aborted, state.signal.reason]).toEqual([true, 'client gone'])
  })

  it('is the same signal on every read, and onAbort listeners run once, late ones at once', () => {
    const state = new RequestAbort()
    expect(state.signal).toBe(state.signal)
    const calls: string[] = []
    state.onAbort(() => calls.push('early'))
    state.abort(1)
    state.abort(2)
    state.onAbort(() => calls.push('late'))
    expect(calls).toEqual(['early', 'late'])
    expect(state.signal.reason).toBe(1)
  })
})

describe('abortStateOf: how the engine hears that the client left', () => {
  const environOf = (signal: AbortSignal | RequestAbort): Environ => {
    const env: Record<string | symbol, unknown> = { REQUEST_METHOD: 'GET' }
    setSignal(env, signal)
    return env as unknown as Environ
  }

  it("finds the gateway's RequestAbort without making the AbortSignal", () => {
    const abort = new RequestAbort()
    const state = abortStateOf(environOf(abort))
    expect(state).toBe(abort)
    let made = false
    const spy = Object.getOwnPropertyDescriptor(RequestAbort.prototype, 'signal')!
    Object.defineProperty(abort, 'signal', {
      get: () => {
        made = true
        return spy.get!.call(abort)
      },
    })
    abort.abort('gone')
    expect([state?.aborted, made]).toEqual([true, false])
  })

  it('still finds it in a copy a middleware made with spread', () => {
    const abort = new RequestAbort()
    const copy = { ...environOf(abort) }
    expect(abortStateOf(copy)).toBe(abort)
  })

  it('watches a plain AbortSignal otherwise', () => {
    const controller = new AbortController()
    const state = abortStateOf(environOf(controller.signal))!
    const heard: string[] = []
    state.onAbort(() => heard.push('abort'))
    expect(state.aborted).toBe(false)
    controller.abort()
    expect([state.aborted, heard]).toEqual([true, ['abort']])
  })
})
