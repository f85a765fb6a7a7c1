// The response engine: startResponse rules, validation before any byte, Content-Length, body
// suppression, body closing, and errors turned into a 500 that hides the stack (SPEC §4, §5).
import { describe, expect, it } from 'vitest'
import AppClass from '../../examples/app-class.js'
import hello from '../../examples/hello.js'
import upper from '../../examples/upper.js'
import type { App, Body, Chunk, Environ, StartResponse } from '../../src/app.js'
import { runApp } from '../../src/core/engine.js'
import { TsgiError } from '../../src/errors.js'
import { bodyText, makeEnviron, recordingSink } from '../_helpers/fake-gateway.js'

async function run(app: App, overrides: Partial<Environ> = {}) {
  const { environ, rec } = makeEnviron(overrides)
  const result = await runApp(app, environ, recordingSink(rec))
  return { rec, result, text: bodyText(rec) }
}

/** A body that records whether the gateway closed it (WSGI's close()). */
function trackedBody(chunks: Chunk[], opts: { failAt?: number; hangAt?: number } = {}) {
  const state = { closed: 0, pulled: 0 }
  const body: AsyncIterable<Chunk> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const i = state.pulled++
        if (i === opts.failAt) throw new Error('boom in body')
        if (i === opts.hangAt) return new Promise<IteratorResult<Chunk>>(() => {})
        return i < chunks.length ? { done: false, value: chunks[i]! } : { done: true, value: undefined }
      },
      return: async () => {
        state.closed++
        return { done: true, value: undefined }
      },
    }),
  }
  return { body, state }
}

describe('the three forms of an app (SPEC §2)', () => {
  it('runs a function app and adds Content-Length for a known body', async () => {
    const { rec, text } = await run(hello)
    expect(rec.status).toBe(200)
    expect(rec.reason).toBe('OK')
    expect(rec.headers).toEqual([
      ['Content-Type', 'text/plain'],
      ['Content-Length', '13'],
    ])
    expect(text).toBe('Hello world!\n')
    expect(rec.calls).toEqual(['head', 'body', 'end'])
  })

  it('runs a class whose instances are the body (startResponse called during iteration)', async () => {
    const { rec, text } = await run(AppClass)
    expect(rec.status).toBe(200)
    expect(text).toBe('Hello world!\n')
    expect(rec.headers?.find(([n]) => n === 'Content-Length')).toBeUndefined()
  })

  it('runs an object with a call method', async () => {
    const app = {
      call: (_e: Environ, start: StartResponse) => {
        start('201 Created', [])
        return ['made']
      },
    }
    const { rec, text } = await run(app)
    expect([rec.status, text]).toEqual([201, 'made'])
  })

  it('runs a middleware-wrapped app (Upperware drops the inner Content-Length)', async () => {
    const { rec, text } = await run(upper)
    expect(text).toBe('HELLO WORLD!\n')
    expect(rec.headers).toEqual([['Content-Type', 'text/plain']])
  })

  it('calls generator functions and async generator functions instead of constructing them', async () => {
    function* gen(_e: Environ, start: StartResponse) {
      start('200 OK', [])
      yield 'sync gen'
    }
    async function* agen(_e: Environ, start: StartResponse) {
      start('200 OK', [])
      yield 'async gen'
    }
    expect((await run(gen)).text).toBe('sync gen')
    expect((await run(agen)).text).toBe('async gen')
  })

  it('rejects something that is not an app with a 500', async () => {
    const { rec } = await run(42 as unknown as App)
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toContain('not an application')
  })
})

describe('startResponse rules (SPEC §4)', () => {
  it('refuses a second call without excInfo', async () => {
    const app: App = (_e, start) => {
      start('200 OK', [])
      start('404 Not Found', [])
      return ['x']
    }
    const { rec } = await run(app)
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toContain('startResponse called twice')
  })

  it('answers 500 when the app never calls startResponse', async () => {
    const { rec } = await run(() => ['body'])
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toContain('without calling startResponse')
  })

  it('lets excInfo replace a response whose headers are not sent yet', async () => {
    const app: App = (_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']])
      try {
        throw new Error('late failure')
      } catch (err) {
        start('503 Service Unavailable', [['Content-Type', 'text/plain']], err)
      }
      return ['try later']
    }
    const { rec, text } = await run(app)
    expect([rec.status, text]).toEqual([503, 'try later'])
  })

  it('re-throws excInfo once headers are sent, and the gateway aborts the response', async () => {
    const failure = new Error('after headers')
    let rethrown: unknown
    async function* body(start: StartResponse) {
      yield 'part one'
      try {
        start('500 Oops', [], failure)
      } catch (err) {
        rethrown = err
        throw err
      }
    }
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return body(start)
    })
    expect(rethrown).toBe(failure)
    expect(rec.status).toBe(200)
    expect(rec.calls).toEqual(['head', 'body', 'abort'])
    expect(rec.aborted).toBe(failure)
  })

  it('sends headers with the first non-empty chunk, so an app can still change its mind', async () => {
    async function* body(start: StartResponse) {
      yield ''
      yield new Uint8Array(0)
      start('404 Not Found', [['Content-Type', 'text/plain']], new Error('not there'))
      yield 'gone'
    }
    const { rec, text } = await run((_e, start) => {
      start('200 OK', [])
      return body(start)
    })
    expect([rec.status, text]).toEqual([404, 'gone'])
  })

  it('sends the head at the end for an empty body, with Content-Length 0', async () => {
    async function* empty() {}
    const { rec } = await run((_e, start) => {
      start('200 OK', [['Content-Type', 'text/plain']])
      return empty()
    })
    expect(rec.calls).toEqual(['head', 'end'])
    expect(rec.headers).toContainEqual(['Content-Length', '0'])
  })

  it('supports the legacy write(), ordered before the returned body', async () => {
    const app: App = async (_e, start) => {
      const write = start('200 OK', [['Content-Type', 'text/plain']])
      await write('a')
      void write('b') // not awaited: still ordered
      return ['c']
    }
    const { text } = await run(app)
    expect(text).toBe('abc')
  })

  it('does not crash the process when an un-awaited write() fails', async () => {
    let late: ReturnType<StartResponse> | undefined
    const app: App = (_e, start) => {
      late = start('200 OK', [['Content-Length', '1']])
      return ['x']
    }
    const { rec } = await run(app)
    await expect(late!('too late')).rejects.toThrow(/after the response ended/)
    expect(rec.status).toBe(200)
  })
})

describe('status and header validation before any byte (SPEC §4.1, RFC 3875 §6.3)', () => {
  const bad: Array<[string, string, Array<[string, string]>, RegExp]> = [
    ['status without reason separator', '200OK', [], /status must be/],
    ['status 1xx is not final', '100 Continue', [], /status must be/],
    ['status 600', '600 Nope', [], /status must be/],
    ['S-04: CR LF in the status reason (response splitting)', '200 OK\r\nX-Evil: 1', [], /status must be/],
    ['S-04: a bare LF in the status reason', '200 OK\nX-Evil: 1', [], /status must be/],
    [
      'CR LF in a value (response splitting)',
      '200 OK',
      [['X-Inject', 'a\r\nSet-Cookie: evil=1']],
      /forbidden character/,
    ],
    ['bare CR in a value', '200 OK', [['X-Inject', 'a\rb']], /forbidden character/],
    ['NUL in a value', '200 OK', [['X-Null', 'a\0b']], /forbidden character/],
    ['char above 0xFF in a value', '200 OK', [['X-Wide', 'caf\u0100']], /forbidden character/],
    ['space in a name', '200 OK', [['Bad Name', 'x']], /not an HTTP token/],
    ['colon in a name', '200 OK', [['X-A:b', 'x']], /not an HTTP token/],
    ['a Status header', '200 OK', [['Status', '302 Found']], /Status header/],
    ['hop-by-hop Transfer-Encoding', '200 OK', [['Transfer-Encoding', 'chunked']], /hop-by-hop/],
    ['hop-by-hop Connection', '200 OK', [['Connection', 'close']], /hop-by-hop/],
    ['non-numeric Content-Length', '200 OK', [['Content-Length', '12abc']], /Content-Length must be digits/],
    [
      'Content-Length twice',
      '200 OK',
      [
        ['Content-Length', '1'],
        ['content-length', '1'],
      ],
      /given twice/,
    ],
  ]
  it.each(bad)('%s: the client gets a clean 500 and the log says why', async (_name, status, headers, why) => {
    const app: App = (_e, start) => {
      start(status, headers)
      return ['x']
    }
    const { rec, text } = await run(app)
    expect(rec.status).toBe(500)
    expect(text).toBe('Internal Server Error\n')
    expect(JSON.stringify(rec.headers)).not.toMatch(/evil|X-Inject|X-Null|Bad Name|chunked/i)
    expect(rec.reason).toBe('Internal Server Error')
    expect(rec.log.join('')).toMatch(why)
  })

  it('still answers 500 when the app swallows the validation error', async () => {
    const app: App = (_e, start) => {
      try {
        start('200 OK', [['X-Bad', 'a\nb']])
      } catch {
        // ignored on purpose
      }
      return ['unsafe']
    }
    const { rec, text } = await run(app)
    expect(rec.status).toBe(500)
    expect(text).not.toContain('unsafe')
    expect(rec.log.join('')).toMatch(/forbidden character/)
  })

  it('rejects a header block over the gateway limit', async () => {
    const { environ, rec } = makeEnviron()
    const app: App = (_e, start) => {
      start('200 OK', [['X-Big', 'x'.repeat(5000)]])
      return ['x']
    }
    await runApp(app, environ, recordingSink(rec), { maxHeaderBytes: 4096 })
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toMatch(/header block is \d+ bytes, over the limit of 4096/)
  })

  it('never invents a Content-Type (no text/html guessing, CVE-2020-24553)', async () => {
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return ['<script>']
    })
    expect(rec.headers).toEqual([['Content-Length', '8']])
  })

  it('keeps repeated headers such as Set-Cookie in order', async () => {
    const app: App = (_e, start) => {
      start('200 OK', [
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['Content-Type', 'text/plain'],
      ])
      return ['x']
    }
    const { rec } = await run(app)
    expect(rec.headers?.filter(([n]) => n === 'Set-Cookie')).toEqual([
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2'],
    ])
  })
})

describe('body rules (SPEC §5)', () => {
  it('suppresses the body of a HEAD but keeps the Content-Length of the GET', async () => {
    const { rec } = await run(hello, { REQUEST_METHOD: 'HEAD' })
    expect(rec.calls).toEqual(['head', 'end'])
    expect(rec.headers).toContainEqual(['Content-Length', '13'])
  })

  it('adds no Content-Length to a HEAD whose body is empty: it says nothing of the GET body', async () => {
    for (const body of [[], [''], (function* () {})()]) {
      const { rec } = await run(
        (_e, start) => {
          start('200 OK', [['Content-Type', 'text/plain']])
          return body
        },
        { REQUEST_METHOD: 'HEAD' },
      )
      expect(rec.headers).toEqual([['Content-Type', 'text/plain']])
    }
    // A GET's empty body is known to be empty.
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return []
    })
    expect(rec.headers).toContainEqual(['Content-Length', '0'])
  })

  it('stops pulling a HEAD body after the head and closes it', async () => {
    const { body, state } = trackedBody(['a', 'b', 'c'])
    const { rec } = await run(
      (_e, start) => {
        start('200 OK', [])
        return body
      },
      { REQUEST_METHOD: 'HEAD' },
    )
    expect(rec.calls).toEqual(['head', 'end'])
    expect(state.pulled).toBe(1)
    expect(state.closed).toBe(1)
  })

  it.each([204, 304])('sends no body and adds no Content-Length for %i', async (code) => {
    const { rec } = await run((_e, start) => {
      start(`${code} X`, [])
      return ['ignored']
    })
    expect(rec.calls).toEqual(['head', 'end'])
    expect(rec.headers).toEqual([])
  })

  it('rejects a string body (iterating it would send one character at a time)', async () => {
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return 'hello' as unknown as Body
    })
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toMatch(/must return an iterable body, got string/)
  })

  it('rejects a chunk that is neither bytes nor string', async () => {
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return [42 as unknown as string]
    })
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toMatch(/chunks must be Uint8Array or string, got number/)
  })

  it('aborts a response that sends more than its Content-Length', async () => {
    const { body, state } = trackedBody(['12345', '678'])
    const { rec } = await run((_e, start) => {
      start('200 OK', [['Content-Length', '6']])
      return body
    })
    expect(rec.calls).toEqual(['head', 'body', 'abort'])
    expect(rec.log.join('')).toMatch(/more than its Content-Length of 6/)
    expect(state.closed).toBe(1)
  })

  it('aborts a response that sends less than its Content-Length', async () => {
    const { rec } = await run((_e, start) => {
      start('200 OK', [['Content-Length', '10']])
      return (async function* () {
        yield 'short'
      })()
    })
    expect(rec.calls).toEqual(['head', 'body', 'abort'])
    expect(rec.log.join('')).toMatch(/5 bytes, less than its Content-Length of 10/)
  })

  it('waits for the sink (backpressure) before pulling the next chunk', async () => {
    const { environ, rec } = makeEnviron()
    const order: string[] = []
    let release!: () => void
    let calls = 0
    const sink = {
      ...recordingSink(rec),
      body: (chunk: Uint8Array) => {
        order.push(`sent ${Buffer.from(chunk).toString()}`)
        if (++calls === 1)
          return new Promise<void>((r) => {
            release = r
          })
      },
    }
    async function* body() {
      order.push('pull 1')
      yield '1'
      order.push('pull 2')
      yield '2'
    }
    const done = runApp(
      (_e, start) => {
        start('200 OK', [])
        return body()
      },
      environ,
      sink,
    )
    await new Promise((r) => setTimeout(r, 10))
    expect(order).toEqual(['pull 1', 'sent 1'])
    release()
    await done
    expect(order).toEqual(['pull 1', 'sent 1', 'pull 2', 'sent 2'])
  })
})

describe('errors and closing (SPEC §5.3, §5.4)', () => {
  it('turns a thrown error into a 500 that hides the stack, and logs the stack', async () => {
    const { rec, text, result } = await run(() => {
      throw new Error('secret database password in message')
    })
    expect(rec.status).toBe(500)
    expect(text).toBe('Internal Server Error\n')
    expect(rec.headers).toEqual([
      ['Content-Type', 'text/plain; charset=utf-8'],
      ['Content-Length', '22'],
    ])
    expect(rec.log.join('')).toMatch(/secret database password in message[\s\S]*engine\.test\.ts/)
    expect(result.error).toBeInstanceOf(Error)
  })

  it('turns a rejected promise into the same 500', async () => {
    const { rec } = await run(async () => Promise.reject(new Error('async failure')))
    expect(rec.status).toBe(500)
    expect(rec.log.join('')).toContain('async failure')
  })

  it('answers a request-body error with its own status (413)', async () => {
    const { rec, text } = await run(() => {
      throw new TsgiError('ERR_BODY_TOO_LARGE', 'too big', { status: 413 })
    })
    expect([rec.status, text]).toEqual([413, 'Content Too Large\n'])
  })

  it('closes the body when it fails mid-way, and aborts the started response', async () => {
    const { body, state } = trackedBody(['a', 'b'], { failAt: 1 })
    const { rec } = await run((_e, start) => {
      start('200 OK', [])
      return body
    })
    expect(rec.calls).toEqual(['head', 'body', 'abort'])
    expect(state.closed).toBe(1)
    expect(rec.log.join('')).toContain('boom in body')
  })

  it('closes the body after a normal end, exactly once', async () => {
    const { body, state } = trackedBody(['a'])
    await run((_e, start) => {
      start('200 OK', [])
      return body
    })
    expect(state.closed).toBe(1)
  })

  it('stops and closes the body when the client goes away (tsgi.signal)', async () => {
    const { body, state } = trackedBody(['a'], { hangAt: 1 })
    const { environ, rec } = makeEnviron()
    const done = runApp(
      (_e, start) => {
        start('200 OK', [])
        return body
      },
      environ,
      recordingSink(rec),
    )
    await new Promise((r) => setTimeout(r, 10))
    rec.controller.abort()
    const result = await done
    expect(result.aborted).toBe(true)
    expect(rec.calls).toEqual(['head', 'body'])
    expect(state.closed).toBe(1)
  })

  it('sends nothing when the client left before the app failed', async () => {
    const { environ, rec } = makeEnviron()
    rec.controller.abort()
    await runApp(
      () => {
        throw new Error('nobody listens')
      },
      environ,
      recordingSink(rec),
    )
    expect(rec.calls).toEqual([])
    expect(rec.log.join('')).toContain('nobody listens')
  })
})

describe('runs that never wait on the sink (the responder hot path)', () => {
  it('an array body and a sink that never waits complete before the next macrotask', async () => {
    // The FastCGI responder writes a response's records once per turn of the event loop: the whole run
    // must be done by then for head, body and END_REQUEST to leave in one write.
    const { environ, rec } = makeEnviron()
    const order: string[] = []
    setImmediate(() => order.push('next turn'))
    const result = await runApp(hello, environ, recordingSink(rec))
    order.push('run done')
    expect(order).toEqual(['run done'])
    expect(result).toMatchObject({ status: 200, bytes: 13, aborted: false })
    expect(rec.calls).toEqual(['head', 'body', 'end'])
  })

  it('a sink that waits, a promised body or write(): the same outcome', async () => {
    const { environ, rec } = makeEnviron()
    const sink = recordingSink(rec)
    const waiting = { ...sink, body: (chunk: Uint8Array) => Promise.resolve(sink.body(chunk)) }
    expect(await runApp(hello, environ, waiting)).toMatchObject({ status: 200, bytes: 13 })
    const promised = runApp(
      async (_e, start) => {
        start('200 OK', [])
        return ['x']
      },
      makeEnviron().environ,
      recordingSink(rec),
    )
    expect(await promised).toMatchObject({ status: 200, bytes: 1 })
    const writer = runApp(
      (_e, start) => {
        void start('200 OK', [])('early ')
        return ['late']
      },
      makeEnviron().environ,
      recordingSink(rec),
    )
    expect(await writer).toMatchObject({ status: 200, bytes: 10 })
  })

  it('a synchronous app error is still a 500 that hides the stack (reported asynchronously)', async () => {
    const { environ, rec } = makeEnviron()
    const result = await runApp(
      () => {
        throw new Error('secret detail')
      },
      environ,
      recordingSink(rec),
    )
    expect(result.status).toBe(500)
    expect(bodyText(rec)).toBe('Internal Server Error\n')
    expect(rec.log.join('')).toContain('secret detail')
  })
})
