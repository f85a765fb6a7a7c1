// tsgi.input (SPEC §3.3): incremental reads, CONTENT_LENGTH as a hard bound, limits, backpressure.
import { describe, expect, it } from 'vitest'
import { BodyInput } from '../../src/core/input.js'
import { isTsgiError } from '../../src/errors.js'

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const tick = () => new Promise((r) => setTimeout(r, 0))

describe('BodyInput', () => {
  it('reads sizes across chunk boundaries, then empty at the end', async () => {
    const input = new BodyInput()
    input.push(bytes('hel'))
    input.push(bytes('lo wor'))
    input.push(bytes('ld'))
    input.end()
    expect(text(await input.read(4))).toBe('hell')
    expect(text(await input.read(4))).toBe('o wo')
    expect(text(await input.read(100))).toBe('rld')
    expect((await input.read(4)).byteLength).toBe(0)
  })

  it('read() without size waits for the whole body', async () => {
    const input = new BodyInput()
    const all = input.read()
    input.push(bytes('a'))
    await tick()
    input.push(bytes('b'))
    input.end()
    expect(text(await all)).toBe('ab')
  })

  it('iterates chunks as they arrive', async () => {
    const input = new BodyInput()
    const seen: string[] = []
    const done = (async () => {
      for await (const chunk of input) seen.push(text(chunk))
    })()
    input.push(bytes('x'))
    await tick()
    input.push(bytes('y'))
    input.end()
    await done
    expect(seen).toEqual(['x', 'y'])
  })

  it('never delivers more than CONTENT_LENGTH, and ends there (RFC 3875 §4.2)', async () => {
    const input = new BodyInput({ expectedLength: 5 })
    input.push(bytes('12345678'))
    expect(input.ended).toBe(true)
    expect(text(await input.read())).toBe('12345')
  })

  it('fails a body shorter than CONTENT_LENGTH with ERR_BODY_INCOMPLETE (FastCGI §6.2)', async () => {
    const input = new BodyInput({ expectedLength: 10 })
    input.push(bytes('short'))
    input.end()
    const err = await input.read().catch((e: unknown) => e)
    expect(isTsgiError(err, 'ERR_BODY_INCOMPLETE')).toBe(true)
    expect((err as Error).message).toContain('5 of 10')
  })

  it('fails a body over the limit with a 413 error, before reading when the length says so', async () => {
    const declared = new BodyInput({ expectedLength: 100, limit: 10 })
    await expect(declared.read()).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE', status: 413 })
    const streamed = new BodyInput({ limit: 4 })
    streamed.push(bytes('12345'))
    await expect(streamed.read()).rejects.toMatchObject({ code: 'ERR_BODY_TOO_LARGE' })
  })

  it('asks the source to pause above the high-water mark and resume when drained', async () => {
    const events: string[] = []
    const input = new BodyInput({
      highWaterMark: 8,
      onPause: () => events.push('pause'),
      onResume: () => events.push('resume'),
    })
    input.push(bytes('123456789'))
    expect(events).toEqual(['pause'])
    await input.read(9)
    expect(events).toEqual(['pause', 'resume'])
  })

  it('releases a pause when the body ends, even with bytes still unread', () => {
    const events: string[] = []
    const input = new BodyInput({
      highWaterMark: 4,
      onPause: () => events.push('pause'),
      onResume: () => events.push('resume'),
    })
    input.push(bytes('123456'))
    input.end()
    expect(events).toEqual(['pause', 'resume'])
  })

  it('starts paused when asked, and resumes the source on the first read (lazy CGI stdin)', async () => {
    const events: string[] = []
    const input = new BodyInput({ paused: true, onResume: () => events.push('resume') })
    expect(events).toEqual([])
    const pending = input.read(1)
    expect(events).toEqual(['resume'])
    input.push(bytes('z'))
    expect(text(await pending)).toBe('z')
  })

  it('wakes a read whose onResume ends the source synchronously', async () => {
    const input: BodyInput = new BodyInput({ paused: true, onResume: () => input.end() })
    expect((await input.read()).byteLength).toBe(0)
  })

  it('discards the rest of the body (draining before close)', async () => {
    const input = new BodyInput({ expectedLength: 6 })
    input.push(bytes('abc'))
    const dropped = input.discard()
    input.push(bytes('def'))
    expect(await dropped).toBe(6)
  })

  it('rejects pending reads when the source fails, after handing out what it has', async () => {
    const input = new BodyInput()
    input.push(bytes('ab'))
    input.fail(new Error('connection lost'))
    expect(text(await input.read(1))).toBe('a')
    await expect(input.read()).rejects.toThrow('connection lost')
  })

  it('validates the size argument', async () => {
    await expect(BodyInput.empty().read(-1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(BodyInput.empty().read(1.5)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
  })
})
