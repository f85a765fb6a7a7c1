// validate(): what only a gateway can get wrong besides the environ: startResponse and write() results,
// tsgi.input answers, the order of body calls, and closing the body (SPEC §4, §3.3, §5.3).
import v8 from 'node:v8'
import vm from 'node:vm'
import { describe, expect, it } from 'vitest'
import hello from '../../examples/hello.js'
import type { App, AppFunction, Body, Chunk, Environ, StartResponse } from '../../src/app.js'
import { callApp } from '../../src/core/call.js'
import type { TsgiError } from '../../src/errors.js'
import { type ValidateOptions, validate } from '../../src/middleware/index.js'
import { gateway, serve } from './_fake-gateway.js'

const TEXT: Array<[string, string]> = [['Content-Type', 'text/plain']]
const okWrite = async (): Promise<void> => {}
const okStart: StartResponse = () => okWrite

/** An app streaming `chunks` from an async generator (which has a return() to call). */
function streaming(...chunks: string[]): App {
  return (_environ: Environ, startResponse: StartResponse) =>
    (async function* () {
      startResponse('200 OK', TEXT)
      yield* chunks
    })()
}

/** onViolation options whose reports can be awaited. */
function reports(): { options: ValidateOptions; next: () => Promise<TsgiError>; all: TsgiError[] } {
  const all: TsgiError[] = []
  let waiting: ((error: TsgiError) => void) | undefined
  const options: ValidateOptions = {
    closeTimeoutMs: 0,
    onViolation: (error) => {
      all.push(error)
      waiting?.(error)
    },
  }
  const next = (): Promise<TsgiError> =>
    all.length > 0 ? Promise.resolve(all[0]!) : new Promise((resolve) => (waiting = resolve))
  return { options, next, all }
}

/** Lets pending timers of 0 ms fire (the close check), so that their absence means something. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))

function open(body: Body): AsyncIterator<Chunk> {
  return (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
}

describe('validate: the gateway side of startResponse and write() (SPEC §4)', () => {
  it('reports a startResponse that does not re-throw excInfo once the headers were sent', async () => {
    const app: App = (_environ, startResponse) =>
      (function* () {
        startResponse('200 OK', TEXT)
        yield 'partial'
        startResponse('500 Internal Server Error', TEXT, new Error('late'))
      })()
    const body = callApp(validate(app), gateway().environ, okStart) as Iterable<Chunk>
    const iterator = body[Symbol.iterator]()
    expect(iterator.next().value).toBe('partial')
    expect(() => iterator.next()).toThrow(/the gateway's startResponse did not re-throw excInfo/)
  })

  it('reports a startResponse that returns no write function', () => {
    const start = (() => undefined) as unknown as StartResponse
    expect(() => callApp(validate(hello), gateway().environ, start)).toThrow(
      /the gateway's startResponse must return a write function, got undefined/,
    )
  })

  it('reports a write() that returns no promise', async () => {
    const start = (() => () => undefined) as unknown as StartResponse
    const app: App = async (_environ, startResponse) => {
      await startResponse('200 OK', TEXT)('x')
      return []
    }
    await expect(callApp(validate(app), gateway().environ, start)).rejects.toThrow(
      /the gateway's write\(\) must return a promise/,
    )
  })
})

describe('validate: the gateway side of tsgi.input (SPEC §3.3)', () => {
  const readWith = async (input: object, use: (environ: Environ) => Promise<unknown>): Promise<unknown> => {
    const app: App = async (environ, startResponse) => {
      await use(environ)
      startResponse('200 OK', TEXT)
      return ['ok']
    }
    const g = gateway({ 'tsgi.input': input })
    return (await serve(validate(app), g)).error
  }
  const iterable = { async *[Symbol.asyncIterator]() {} }

  it('reports read() resolving to something other than a Uint8Array', async () => {
    const error = await readWith({ ...iterable, read: async () => 'text' }, (env) => env['tsgi.input'].read())
    expect(String(error)).toMatch(/the gateway's tsgi\.input\.read\(\) produced string "text", not a Uint8Array/)
  })

  it('reports read(size) resolving to more than size bytes', async () => {
    const error = await readWith({ ...iterable, read: async () => new Uint8Array(5) }, (env) =>
      env['tsgi.input'].read(2),
    )
    expect(String(error)).toMatch(/the gateway's tsgi\.input\.read\(2\) resolved to 5 bytes/)
  })

  it('reports read() returning no promise', async () => {
    const error = await readWith({ ...iterable, read: () => new Uint8Array(0) }, (env) => env['tsgi.input'].read())
    expect(String(error)).toMatch(/the gateway's tsgi\.input\.read\(\) must return a promise/)
  })

  it('reports iteration yielding something other than a Uint8Array', async () => {
    const input = {
      read: async () => new Uint8Array(0),
      async *[Symbol.asyncIterator]() {
        yield [1, 2]
      },
    }
    const error = await readWith(input, async (env) => {
      for await (const chunk of env['tsgi.input']) void chunk
    })
    expect(String(error)).toMatch(/the gateway's tsgi\.input iteration produced array \[1,2\], not a Uint8Array/)
  })
})

describe('validate: how the gateway drives the body (SPEC §5.3)', () => {
  it('reports next() after return()', async () => {
    const iterator = open(await callApp(validate(streaming('a')), gateway().environ, okStart))
    await iterator.return!()
    await expect(iterator.next()).rejects.toThrow(/the gateway called the body's next\(\) after return\(\)/)
  })

  it('reports next() while another next() is pending', async () => {
    const iterator = open(await callApp(validate(streaming('a', 'b')), gateway().environ, okStart))
    const first = iterator.next()
    await expect(iterator.next()).rejects.toThrow(/next\(\) while another was pending/)
    expect((await first).value).toBe('a')
    await iterator.return!()
  })

  it('reports a body opened twice', async () => {
    const body = (await callApp(validate(streaming('a')), gateway().environ, okStart)) as AsyncIterable<Chunk>
    const iterator = body[Symbol.asyncIterator]()
    expect(() => body[Symbol.asyncIterator]()).toThrow(/the gateway opened the body twice/)
    await iterator.return!()
  })

  it('reports return() called twice', async () => {
    const { options, next } = reports()
    const iterator = open(await callApp(validate(streaming('a'), options), gateway().environ, okStart))
    await iterator.return!()
    await iterator.return!()
    expect((await next()).message).toMatch(/the gateway called the body's return\(\) twice/)
  })

  it('reports a body never closed after it ended, to tsgi.errors by default', async () => {
    const g = gateway()
    const iterator = open(await callApp(validate(streaming('a'), { closeTimeoutMs: 0 }), g.environ, okStart))
    while ((await iterator.next()).done !== true);
    await settle()
    expect(g.log).toEqual([
      "tsgi.validate: the gateway did not call the body's return() within 0 ms after the body ended (SPEC §5.3)\n",
    ])
  })

  it('reports a body never closed after a failure', async () => {
    const { options, next } = reports()
    const failing: App = (_environ, startResponse) =>
      (async function* () {
        startResponse('200 OK', TEXT)
        yield 'a'
        throw new Error('app failed')
      })()
    const iterator = open(await callApp(validate(failing, options), gateway().environ, okStart))
    await iterator.next()
    await expect(iterator.next()).rejects.toThrow('app failed')
    expect((await next()).message).toMatch(/within 0 ms after the body failed/)
  })

  it('reports a body never closed after the request was aborted', async () => {
    const { options, next } = reports()
    const g = gateway()
    const iterator = open(await callApp(validate(streaming('a', 'b'), options), g.environ, okStart))
    await iterator.next()
    g.controller.abort()
    expect((await next()).message).toMatch(/within 0 ms after the request was aborted/)
  })

  it('reports nothing when the gateway closes the body, after an end or an abort', async () => {
    const { options, all } = reports()
    expect((await serve(validate(streaming('a', 'b'), options))).error).toBeUndefined()
    const g = gateway()
    const iterator = open(await callApp(validate(streaming('a', 'b'), options), g.environ, okStart))
    await iterator.next()
    g.controller.abort()
    await iterator.return!()
    await settle()
    expect(all).toEqual([])
  })

  it('reports a body the gateway dropped without closing, once it is garbage-collected', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const { options, next } = reports()
    // Opened and read once, then dropped: only the garbage collector can tell (as wsgiref's __del__).
    await (async () => {
      const iterator = open(await callApp(validate(streaming('a', 'b'), options), gateway().environ, okStart))
      await iterator.next()
    })()
    const reported = next()
    for (
      let i = 0;
      i < 50 && (await Promise.race([reported.then(() => true), settle().then(() => false)])) === false;
      i++
    )
      gc()
    expect((await reported).message).toMatch(
      /the body was garbage-collected but the gateway never called its return\(\)/,
    )
  })
})

describe('validate: middleware must close the inner body (SPEC §6)', () => {
  const upper =
    (inner: App, close: boolean): AppFunction =>
    async (environ, startResponse) => {
      const body = await callApp(inner, environ, startResponse)
      return (async function* () {
        const iterator = (body as AsyncIterable<Chunk>)[Symbol.asyncIterator]()
        try {
          for (let step = await iterator.next(); step.done !== true; step = await iterator.next()) {
            yield String(step.value).toUpperCase()
          }
        } finally {
          if (close) await iterator.return?.()
        }
      })()
    }

  it('catches a middleware that relies on for-await, which skips return() after a normal end', async () => {
    const { options, next } = reports()
    const served = await serve(validate(upper(validate(streaming('a', 'b'), options), false)))
    expect(served.text).toBe('AB')
    expect((await next()).message).toMatch(/did not call the body's return\(\) within 0 ms after the body ended/)
  })

  it('passes a middleware that closes the inner body (validated on both sides)', async () => {
    const { options, all } = reports()
    const served = await serve(validate(upper(validate(streaming('a', 'b'), options), true), options))
    expect(served.error).toBeUndefined()
    expect(served.text).toBe('AB')
    await settle()
    expect(all).toEqual([])
  })
})
