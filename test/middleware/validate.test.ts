// validate(): the app side (SPEC §4, §5, §3.3). Each case is an app breaking one rule, served by an
// in-memory gateway that follows the spec itself; the app's error must be the rule's message.
import { describe, expect, it } from 'vitest'
import type { App, Environ, HeaderList, StartResponse } from '../../src/app.js'
import { TsgiError } from '../../src/errors.js'
import { validate } from '../../src/middleware/index.js'
import { type Gateway, gateway, serve } from './_fake-gateway.js'

const TEXT: HeaderList = [['Content-Type', 'text/plain']]

/** Serves `app` under validate() and returns the validation message it failed with. */
async function violationOf(app: App, g: Gateway = gateway()): Promise<string> {
  const served = await serve(validate(app, { closeTimeoutMs: 0 }), g)
  expect(served.error, 'expected a validation error').toBeInstanceOf(TsgiError)
  expect((served.error as TsgiError).code).toBe('ERR_VALIDATION')
  return (served.error as TsgiError).message
}

/** An app that answers `status` and `headers` with `body`. */
function answer(status: unknown, headers: unknown, ...body: unknown[]): App {
  return (_environ: Environ, startResponse: StartResponse) => {
    ;(startResponse as (...args: unknown[]) => unknown)(status, headers)
    return (body.length === 0 ? ['ok'] : body[0]) as string[]
  }
}

/**
 * A generator function as an app. The arrow is needed until src/core/call.ts stops calling `new` on
 * generator functions (their prototype inherits Symbol.iterator).
 */
function generator(
  fn: (environ: Environ, startResponse: StartResponse) => Iterable<unknown> | AsyncIterable<unknown>,
): App {
  return (environ, startResponse) => fn(environ, startResponse) as Iterable<string>
}

describe('validate: startResponse (SPEC §4)', () => {
  it.each([['OK'], ['200'], ['200OK'], ['99 Too Low'], ['600 Too High'], ['200 OK\r\nX: y'], [200]])(
    'rejects the status %j',
    async (status) => {
      expect(await violationOf(answer(status, TEXT))).toMatch(/tsgi\.validate: status must be "NNN reason"/)
    },
  )

  it('rejects headers that are not an array', async () => {
    expect(await violationOf(answer('200 OK', { 'Content-Type': 'text/plain' }))).toMatch(/headers must be an array/)
  })

  it.each([[[['Content-Type']]], [[['X-Count', 5]]], [[['A', 'b', 'c']]], [['Content-Type: text/plain']]])(
    'rejects the header list %j (pairs of two strings)',
    async (headers) => {
      expect(await violationOf(answer('200 OK', headers))).toMatch(
        /each header must be a \[name, value\] pair of strings/,
      )
    },
  )

  it('requires header names to be tokens', async () => {
    expect(await violationOf(answer('200 OK', [...TEXT, ['Bad Name', 'x']]))).toMatch(
      /header name "Bad Name" is not an HTTP token/,
    )
  })

  it.each(['a\r\nSet-Cookie: x=1', 'nul\0', 'euro \u20ac'])('rejects the header value %j', async (value) => {
    expect(await violationOf(answer('200 OK', [...TEXT, ['X-Value', value]]))).toMatch(
      /header X-Value has a forbidden character/,
    )
  })

  it('rejects a Status header', async () => {
    expect(await violationOf(answer('200 OK', [...TEXT, ['Status', '200 OK']]))).toMatch(
      /must not send a Status header/,
    )
  })

  it.each(['Transfer-Encoding', 'Connection', 'Keep-Alive', 'Upgrade'])(
    'rejects the hop-by-hop header %s',
    async (name) => {
      expect(await violationOf(answer('200 OK', [...TEXT, [name, 'x']]))).toMatch(`hop-by-hop header ${name}`)
    },
  )

  it('requires Content-Length digits, given once', async () => {
    expect(await violationOf(answer('200 OK', [...TEXT, ['Content-Length', '2 ']]))).toMatch(
      /Content-Length must be digits/,
    )
    const twice: HeaderList = [...TEXT, ['Content-Length', '2'], ['content-length', '2']]
    expect(await violationOf(answer('200 OK', twice))).toMatch(/Content-Length given twice/)
  })

  it.each(['Content-Type', 'Location'])('rejects %s given twice', async (name) => {
    const headers: HeaderList = [
      ['Content-Type', 'text/plain'],
      [name, '/a'],
      [name.toLowerCase(), '/b'],
    ]
    expect(await violationOf(answer('302 Found', headers))).toMatch(`${name} given twice`)
  })

  it('rejects a second call without excInfo', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', TEXT)
      startResponse('404 Not Found', TEXT)
      return ['ok']
    }
    expect(await violationOf(app)).toMatch(/startResponse called twice without excInfo/)
  })

  it.each([['oops'], [42], [{ code: 1 }]])('requires excInfo to be an Error, not %j', async (excInfo) => {
    const app: App = (_environ, startResponse) => {
      startResponse('500 Internal Server Error', TEXT, excInfo)
      return ['failed']
    }
    expect(await violationOf(app)).toMatch(/excInfo must be the caught Error/)
  })

  it('lets excInfo replace the response before the headers were sent', async () => {
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', TEXT)
      try {
        throw new Error('database down')
      } catch (err) {
        startResponse('503 Service Unavailable', TEXT, err)
      }
      return ['try later']
    }
    const served = await serve(validate(app))
    expect(served.error).toBeUndefined()
    expect(served.status).toBe('503 Service Unavailable')
    expect(served.text).toBe('try later')
  })

  it('passes on the gateway re-throwing excInfo once the headers were sent', async () => {
    const failure = new Error('late failure')
    const app = generator(function* (_environ, startResponse) {
      startResponse('200 OK', TEXT)
      yield 'partial'
      startResponse('500 Internal Server Error', TEXT, failure)
      yield 'never'
    })
    const served = await serve(validate(app))
    expect(served.error).toBe(failure)
    expect(served.text).toBe('partial')
  })

  it.each([[['200 OK']], [['200 OK', TEXT, undefined, 'extra']]])('rejects %j arguments', async (args) => {
    const app: App = (_environ, startResponse) => {
      ;(startResponse as (...a: unknown[]) => unknown)(...args)
      return []
    }
    expect(await violationOf(app)).toMatch(/startResponse takes \(status, headers, excInfo\?\), got \d arguments/)
  })

  it('rejects startResponse after the response ended', async () => {
    let later: StartResponse | undefined
    const app: App = (_environ, startResponse) => {
      later = startResponse
      startResponse('200 OK', TEXT)
      return ['ok']
    }
    const served = await serve(validate(app))
    expect(served.error).toBeUndefined()
    expect(() => later!('500 Internal Server Error', TEXT, new Error('x'))).toThrow(
      /startResponse called after the response ended/,
    )
  })
})

describe('validate: the body (SPEC §5)', () => {
  it.each([[undefined], [null], ['Hello'], [new Uint8Array([72])], [42], [{ chunks: ['a'] }]])(
    'rejects the body %j',
    async (body) => {
      expect(await violationOf(answer('200 OK', TEXT, body))).toMatch(
        /the app returned .*(a body is an iterable|not iterable)/,
      )
    },
  )

  it.each([[[42]], [[{ text: 'a' }]], [[['a']]]])('rejects the chunks of %j', async (body) => {
    expect(await violationOf(answer('200 OK', TEXT, body))).toMatch(
      /the body produced .*: a chunk is a Uint8Array or a string/,
    )
  })

  it('rejects a chunk from a generator before startResponse', async () => {
    const app = generator(function* (_environ, startResponse) {
      yield 'too early'
      startResponse('200 OK', TEXT)
    })
    expect(await violationOf(app)).toMatch(/the body produced a chunk before startResponse was called/)
  })

  it('rejects an array body returned without startResponse', async () => {
    expect(await violationOf(() => ['no start'])).toMatch(/the body produced a chunk before startResponse/)
    expect(await violationOf(() => [])).toMatch(/the body ended but startResponse was never called/)
  })

  it('rejects a generator that ends without startResponse', async () => {
    const app = generator(async function* () {})
    expect(await violationOf(app)).toMatch(/the body ended but startResponse was never called/)
  })

  it('requires Content-Length to match the bytes, counting strings as UTF-8', async () => {
    const headers = (n: number): HeaderList => [...TEXT, ['Content-Length', String(n)]]
    expect(await violationOf(answer('200 OK', headers(2), ['abc']))).toMatch(
      /longer than its Content-Length of 2: 3 bytes so far/,
    )
    expect(await violationOf(answer('200 OK', headers(9), ['abc']))).toMatch(
      /the body has 3 bytes but its Content-Length says 9/,
    )
    const gen = generator(async function* (_environ, startResponse) {
      startResponse('200 OK', headers(3))
      yield 'ab'
      yield new Uint8Array([99, 100])
    })
    expect(await violationOf(gen)).toMatch(/longer than its Content-Length of 3: 4 bytes so far/)
    const served = await serve(validate(answer('200 OK', headers(6), ['é', '😀'])))
    expect(served.error).toBeUndefined()
  })

  it('rejects a body for HEAD, but accepts an empty one with the GET Content-Length', async () => {
    const head = gateway({ REQUEST_METHOD: 'HEAD' })
    expect(await violationOf(answer('200 OK', TEXT, ['body']), head)).toMatch(
      /a HEAD response must have no body; the body produced 4 bytes/,
    )
    const served = await serve(
      validate(answer('200 OK', [...TEXT, ['Content-Length', '4']], [])),
      gateway({ REQUEST_METHOD: 'HEAD' }),
    )
    expect(served.error).toBeUndefined()
  })

  it.each([204, 304])('rejects a body for %i', async (code) => {
    expect(await violationOf(answer(`${code} Nothing`, [], ['x']))).toMatch(`a ${code} response must have no body`)
  })

  it.each([204, 304])('rejects Content-Type for %i', async (code) => {
    expect(await violationOf(answer(`${code} Nothing`, TEXT, []))).toMatch(
      `a ${code} response must not have a Content-Type`,
    )
  })

  it('rejects Content-Length for 204, and accepts an empty 204', async () => {
    expect(await violationOf(answer('204 No Content', [['Content-Length', '0']], []))).toMatch(
      /a 204 response must not have a Content-Length/,
    )
    expect((await serve(validate(answer('204 No Content', [], [])))).error).toBeUndefined()
  })

  it('requires a Content-Type with a body, not without one', async () => {
    expect(await violationOf(answer('200 OK', [], ['x']))).toMatch(/a response with a body must have a Content-Type/)
    const redirect = answer('302 Found', [['Location', 'https://example.com/']], [])
    expect((await serve(validate(redirect))).error).toBeUndefined()
  })

  it('accepts a local redirect: 200, Location: /path, nothing else (SPEC §5.7)', async () => {
    const served = await serve(validate(answer('200 OK', [['Location', '/other?x=1']], [])))
    expect(served.error).toBeUndefined()
  })

  it('rejects a body in a local redirect', async () => {
    expect(await violationOf(answer('200 OK', [['Location', '/other']], ['x']))).toMatch(
      /a local redirect .* must have an empty body/,
    )
  })

  it('rejects other headers in a local redirect', async () => {
    expect(
      await violationOf(
        answer(
          '200 OK',
          [
            ['Location', '/other'],
            ['X-A', '1'],
          ],
          [],
        ),
      ),
    ).toMatch(/a local redirect must have no header but Location/)
  })

  it.each(['https://example.com/', '//evil.example/', 'relative'])(
    'rejects a 200 with Location %j',
    async (location) => {
      expect(await violationOf(answer('200 OK', [['Location', location]], []))).toMatch(
        /a 200 with Location must be a local redirect/,
      )
    },
  )

  it('passes app exceptions through untouched (the gateway answers 500)', async () => {
    const failure = new Error('boom')
    const served = await serve(
      validate(() => {
        throw failure
      }),
    )
    expect(served.error).toBe(failure)
    const rejected = await serve(validate(async () => Promise.reject(failure)))
    expect(rejected.error).toBe(failure)
  })
})

describe('validate: write() (SPEC §4.3)', () => {
  it('accepts the legacy write() before the body', async () => {
    const app: App = async (_environ, startResponse) => {
      const write = startResponse('200 OK', TEXT)
      await write('legacy ')
      return ['body']
    }
    const served = await serve(validate(app))
    expect(served.error).toBeUndefined()
    expect(served.text).toBe('legacy body')
  })

  it('rejects a write() of a non-chunk', async () => {
    const app: App = async (_environ, startResponse) => {
      await startResponse('200 OK', TEXT)(42 as never)
      return []
    }
    expect(await violationOf(app)).toMatch(/write\(\) produced number 42: a chunk is a Uint8Array or a string/)
  })

  it('rejects write() with other than one argument', async () => {
    const app: App = async (_environ, startResponse) => {
      const write = startResponse('200 OK', TEXT) as (...args: unknown[]) => Promise<void>
      await write('a', 'b')
      return []
    }
    expect(await violationOf(app)).toMatch(/write\(\) takes one chunk, got 2 arguments/)
  })

  it('rejects write() once the body is being iterated', async () => {
    const app = generator(async function* (_environ, startResponse) {
      const write = startResponse('200 OK', TEXT)
      yield 'a'
      await write('b')
    })
    expect(await violationOf(app)).toMatch(/write\(\) called after the gateway began iterating the body/)
  })

  it('counts written bytes against Content-Length', async () => {
    const app: App = async (_environ, startResponse) => {
      await startResponse('200 OK', [...TEXT, ['Content-Length', '3']])('abc')
      return ['d']
    }
    expect(await violationOf(app)).toMatch(/longer than its Content-Length of 3: 4 bytes so far/)
  })
})

describe('validate: tsgi.input and tsgi.errors as the app uses them (SPEC §3.3)', () => {
  const reader =
    (use: (environ: Environ) => Promise<unknown>): App =>
    async (environ, startResponse) => {
      await use(environ)
      startResponse('200 OK', TEXT)
      return ['ok']
    }

  it.each([[-1], [1.5], ['10'], [Number.NaN]])('rejects read(%j)', async (size) => {
    const app = reader((environ) => environ['tsgi.input'].read(size as number))
    expect(await violationOf(app, gateway({}, 'body'))).toMatch(
      /tsgi\.input\.read\(\) size must be a non-negative integer/,
    )
  })

  it('rejects read() with two arguments', async () => {
    const app = reader((environ) => (environ['tsgi.input'].read as (...a: unknown[]) => Promise<unknown>)(1, 2))
    expect(await violationOf(app, gateway({}, 'body'))).toMatch(/tsgi\.input\.read\(\) takes at most one argument/)
  })

  it('rejects a read while another is pending', async () => {
    const app = reader((environ) => Promise.all([environ['tsgi.input'].read(1), environ['tsgi.input'].read(1)]))
    expect(await violationOf(app, gateway({}, 'body'))).toMatch(/tsgi\.input read\(\) while another read was pending/)
  })

  it('rejects iterating while a read is pending', async () => {
    const app = reader(async (environ) => {
      const input = environ['tsgi.input']
      const pending = input.read(1)
      try {
        await input[Symbol.asyncIterator]().next()
      } finally {
        await pending
      }
    })
    expect(await violationOf(app, gateway({}, 'body'))).toMatch(/tsgi\.input iteration while another read was pending/)
  })

  it('rejects reading after the response ended', async () => {
    let input: Environ['tsgi.input'] | undefined
    const app: App = (environ, startResponse) => {
      input = environ['tsgi.input']
      startResponse('200 OK', TEXT)
      return ['ok']
    }
    expect((await serve(validate(app), gateway({}, 'body'))).error).toBeUndefined()
    expect(() => input!.read(1)).toThrow(/tsgi\.input read\(\) after the response ended/)
  })

  it('reads a body both ways', async () => {
    const app = reader(async (environ) => {
      const input = environ['tsgi.input']
      expect(new TextDecoder().decode(await input.read(3))).toBe('hel')
      const rest: string[] = []
      for await (const chunk of input) rest.push(new TextDecoder().decode(chunk))
      expect(rest.join('')).toBe('lo world')
      expect((await input.read()).byteLength).toBe(0)
    })
    expect((await serve(validate(app), gateway({}, 'hello world'))).error).toBeUndefined()
  })

  it('requires strings for tsgi.errors.write() and passes them to the gateway', async () => {
    const g = gateway()
    const good = reader(async (environ) => environ['tsgi.errors'].write('note\n'))
    expect((await serve(validate(good), g)).error).toBeUndefined()
    expect(g.log).toEqual(['note\n'])
    const bad = reader(async (environ) => environ['tsgi.errors'].write(new Error('x') as never))
    expect(await violationOf(bad)).toMatch(/tsgi\.errors\.write\(\) takes one string, got Error/)
  })
})
