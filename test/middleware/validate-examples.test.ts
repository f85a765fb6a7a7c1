// validate() around the seed example apps: they pass cleanly through the in-test gateway, through the
// shared engine (runApp), and through the real dev server on loopback, which also checks that gateway's environ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import AppClass from '../../examples/app-class.js'
import echo from '../../examples/echo.js'
import environDump from '../../examples/environ.js'
import hello from '../../examples/hello.js'
import pathApp from '../../examples/path.js'
import upper, { upperware } from '../../examples/upper.js'
import type { App, Environ, StartResponse } from '../../src/app.js'
import { runApp } from '../../src/core/engine.js'
import { type DevServer, serve as serveHttp } from '../../src/gateways/http/index.js'
import { type ValidateOptions, validate } from '../../src/middleware/index.js'
import { bodyText, makeEnviron, recordingSink } from '../_helpers/fake-gateway.js'
import { gateway, serve } from './_fake-gateway.js'

/** Validator options whose late reports land in `violations`; `closeTimeoutMs: 0` suits in-memory gateways. */
function collector(closeTimeoutMs = 0): { options: ValidateOptions; violations: string[] } {
  const violations: string[] = []
  return { options: { closeTimeoutMs, onViolation: (error) => void violations.push(error.message) }, violations }
}

/** Lets a 0 ms close check fire, so that an empty `violations` means the body was closed. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))

/** Streams its body from a generator, so closing matters. */
const streamingHello = (_environ: Environ, startResponse: StartResponse) =>
  (async function* () {
    startResponse('200 OK', [['Content-Type', 'text/plain']])
    yield 'Hello '
    yield new TextEncoder().encode('world!\n')
  })()

/** [name, app given the validator options for inner apps, expected body, late reports expected]. */
const EXAMPLES: Array<[string, (options: ValidateOptions) => App, string | RegExp, number]> = [
  ['hello', () => hello, 'Hello world!\n', 0],
  ['AppClass', () => AppClass, 'Hello world!\n', 0],
  ['environ dump', () => environDump, /^PATH_INFO: \/hello$/m, 0],
  ['/hello path app', () => pathApp, ' hello ', 0],
  ['Upperware(hello)', () => upper, 'HELLO WORLD!\n', 0],
  ['Upperware(validate(hello))', (options) => upperware(validate(hello, options)), 'HELLO WORLD!\n', 0],
  // examples/upper.ts closes the inner body after a normal end too (SPEC §6): no report expected.
  [
    'Upperware(validate(streaming hello))',
    (options) => upperware(validate(streamingHello, options)),
    'HELLO WORLD!\n',
    0,
  ],
]

describe('validate: the example apps pass cleanly (SPEC §8)', () => {
  it.each(EXAMPLES)('%s, through the in-test gateway', async (_name, makeApp, expected, late) => {
    const { options, violations } = collector()
    const served = await serve(validate(makeApp(options), options), gateway({ PATH_INFO: '/hello' }))
    expect(served.error).toBeUndefined()
    expect(served.status).toBe('200 OK')
    expect(served.text).toMatch(expected)
    await settle()
    expect(violations).toHaveLength(late)
  })

  it.each(EXAMPLES)('%s, through the engine', async (_name, makeApp, expected, late) => {
    const { options, violations } = collector()
    const { environ, rec } = makeEnviron({ PATH_INFO: '/hello' })
    const result = await runApp(validate(makeApp(options), collector(60_000).options), environ, recordingSink(rec))
    expect(result.error).toBeUndefined()
    expect(rec.status).toBe(200)
    expect(bodyText(rec)).toMatch(expected)
    await settle()
    expect(violations).toHaveLength(late)
  })

  it('echo reads a POST body through the validated tsgi.input', async () => {
    const served = await serve(validate(echo), gateway({ REQUEST_METHOD: 'POST' }, 'hello world'))
    expect(served.error).toBeUndefined()
    expect(served.text).toMatch(/^length: 11$/m)
    expect(served.text).toMatch(/^sha256: b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9$/m)
  })

  it('a violation becomes a 500 through the engine, with the message in tsgi.errors', async () => {
    const { environ, rec } = makeEnviron()
    const bad: App = (_environ, startResponse) => {
      startResponse('200 OK', [
        ['Content-Type', 'text/plain'],
        ['Transfer-Encoding', 'chunked'],
      ])
      return ['x']
    }
    const result = await runApp(validate(bad), environ, recordingSink(rec))
    expect(rec.status).toBe(500)
    expect(bodyText(rec)).not.toMatch(/Transfer-Encoding/)
    expect(rec.log.join('')).toMatch(/tsgi\.validate: hop-by-hop header Transfer-Encoding/)
    expect(result.error).toMatchObject({ code: 'ERR_VALIDATION' })
  })
})

describe('validate: behind the real dev server (its environ is checked too)', () => {
  // The engine closes a body after the response's end was written (I/O), so this gateway gets a real grace
  // period; the access-log line comes after runApp returned, that is after return() was called.
  const CLOSE_TIMEOUT_MS = 500
  let server: DevServer
  const errors: string[] = []
  const served: string[] = []
  let waiter: (() => void) | undefined
  const { options: serverOptions, violations } = collector(CLOSE_TIMEOUT_MS)
  const app = validate((environ: Environ, startResponse: StartResponse) => {
    if (environ.PATH_INFO === '/echo') return echo(environ, startResponse)
    if (environ.PATH_INFO === '/class') return new AppClass(environ, startResponse)
    if (environ.PATH_INFO === '/stream') return streamingHello(environ, startResponse)
    return pathApp(environ, startResponse)
  }, serverOptions)
  const logged = (count: number): Promise<void> =>
    served.length >= count
      ? Promise.resolve()
      : new Promise((resolve) => (waiter = () => served.length >= count && resolve()))

  beforeAll(async () => {
    const log = (line: string): void => {
      served.push(line)
      waiter?.()
    }
    server = await serveHttp(app, { port: 0, log, errors: { write: (message) => void errors.push(message) } })
  })
  afterAll(async () => {
    await server.close()
  })

  it('serves GET, POST, a class and a streaming body with no violation on either side', async () => {
    const get = await fetch(new URL('/world', server.url))
    expect(get.status).toBe(200)
    expect(await get.text()).toBe(' world ')
    const post = await fetch(new URL('/echo?x=1', server.url), { method: 'POST', body: 'hello world' })
    expect(await post.text()).toMatch(/^length: 11$/m)
    const cls = await fetch(new URL('/class', server.url))
    expect(await cls.text()).toBe('Hello world!\n')
    const stream = await fetch(new URL('/stream', server.url))
    expect(await stream.text()).toBe('Hello world!\n')
    await logged(4)
    // A body left open would be reported CLOSE_TIMEOUT_MS after it ended, before this wait is over.
    await new Promise((resolve) => setTimeout(resolve, CLOSE_TIMEOUT_MS + 100))
    expect(errors).toEqual([])
    expect(violations).toEqual([])
  })
})
