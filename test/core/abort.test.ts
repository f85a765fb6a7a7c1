// LazyAbort: tsgi.signal made only when read (SPEC §3.3), and right whenever it is read.
import { describe, expect, it } from 'vitest'
import { LazyAbort } from '../../src/core/abort.js'

describe('LazyAbort', () => {
  it('a signal read before the abort fires with the reason', () => {
    const state = new LazyAbort()
    const signal = state.signal
    const reasons: unknown[] = []
    signal.addEventListener('abort', () => reasons.push(signal.reason))
    state.abort('client gone')
    expect([signal.aborted, reasons]).toEqual([true, ['client gone']])
  })

  it('a signal read only after the abort is already aborted, with the reason', () => {
    const state = new LazyAbort()
    state.abort('client gone')
    expect([state.signal.aborted, state.signal.reason]).toEqual([true, 'client gone'])
  })

  it('is the same signal on every read, and onAbort listeners run once, late ones at once', () => {
    const state = new LazyAbort()
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
