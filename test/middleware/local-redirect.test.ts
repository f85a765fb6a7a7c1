// localRedirects(app): RFC 3875 §6.2.2 local redirects run in-process (for Apache mod_proxy_fcgi, which
// passes them to the client as an empty 200). Driven through the real engine, and under validate().
import { describe, expect, it } from 'vitest'
import type { App, Environ, StartResponse } from '../../src/app.js'
import { runApp } from '../../src/core/engine.js'
import { BodyInput } from '../../src/core/input.js'
import { localRedirects } from '../../src/middleware/local-redirect.js'
import { validate } from '../../src/middleware/validate.js'
import { bodyText, makeEnviron, recordingSink } from '../_helpers/fake-gateway.js'

/** Redirects /old (and /loop, to itself) locally, /away outside the app; anything else reports its request. */
function makeApp(seen: Environ[], closed: string[]): App {
  return function app(environ: Environ, startResponse: StartResponse) {
    seen.push(environ)
    const path = environ.PATH_INFO
    if (path === '/old' || path === '/loop' || path === '/away') {
      const target = {
        '/old': `${environ.SCRIPT_NAME}/caf%C3%A9/new?x=1`,
        '/loop': `${environ.SCRIPT_NAME}/loop`,
        '/away': '/elsewhere/page',
      }[path]
      startResponse('200 OK', [['Location', target]])
      return (function* () {
        try {
          yield ''
        } finally {
          closed.push(path)
        }
      })()
    }
    if (path === '/with-body') {
      startResponse('200 OK', [
        ['Location', '/mount/new'],
        ['Content-Type', 'text/plain'],
      ])
      return ['a body: not a local redirect\n']
    }
    startResponse('201 Created', [
      ['Content-Type', 'text/plain'],
      ['X-Path', path],
    ])
    return [`${environ.REQUEST_METHOD} ${path}?${environ.QUERY_STRING}`]
  }
}

async function run(app: App, overrides: Partial<Environ>, input?: BodyInput) {
  const { environ, rec } = makeEnviron({ SCRIPT_NAME: '/mount', ...overrides }, input)
  const result = await runApp(app, environ, recordingSink(rec))
  return { rec, result, text: bodyText(rec) }
}

describe('localRedirects', () => {
  it('runs the app again for the new path, as a GET without a body', async () => {
    const seen: Environ[] = []
    const closed: string[] = []
    const body = new BodyInput({ expectedLength: 5 })
    body.push(new TextEncoder().encode('hello'))
    body.end()
    const { rec, text } = await run(
      localRedirects(makeApp(seen, closed)),
      {
        REQUEST_METHOD: 'POST',
        PATH_INFO: '/old',
        QUERY_STRING: 'q=2',
        CONTENT_LENGTH: '5',
        CONTENT_TYPE: 'text/plain',
        PATH_TRANSLATED: '/srv/old',
      },
      body,
    )
    expect([rec.status, rec.headers, text]).toEqual([
      201,
      [
        ['Content-Type', 'text/plain'],
        ['X-Path', '/café/new'],
      ],
      'GET /café/new?x=1',
    ])
    const second = seen[1]!
    expect([second.REDIRECT_STATUS, second.REDIRECT_URL, second.REDIRECT_QUERY_STRING, second.REQUEST_URI]).toEqual([
      '200',
      '/mount/old',
      'q=2',
      '/mount/caf%C3%A9/new?x=1',
    ])
    expect([second.CONTENT_LENGTH, second.CONTENT_TYPE, second.PATH_TRANSLATED]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(await second['tsgi.input'].read()).toEqual(new Uint8Array(0))
    expect(closed).toEqual(['/old'])
  })

  it('keeps HEAD a HEAD', async () => {
    const seen: Environ[] = []
    await run(localRedirects(makeApp(seen, [])), { REQUEST_METHOD: 'HEAD', PATH_INFO: '/old' })
    expect(seen.map((e) => e.REQUEST_METHOD)).toEqual(['HEAD', 'HEAD'])
  })

  it('answers 302 for a path outside SCRIPT_NAME', async () => {
    const { rec, text } = await run(localRedirects(makeApp([], [])), { PATH_INFO: '/away' })
    expect([rec.status, text]).toEqual([302, ''])
    expect(rec.headers).toContainEqual(['Location', '/elsewhere/page'])
  })

  it('passes other responses through unchanged, 200 + Location with a body included', async () => {
    const plain = await run(localRedirects(makeApp([], [])), { PATH_INFO: '/x', QUERY_STRING: 'a=b' })
    expect([plain.rec.status, plain.rec.headers, plain.text]).toEqual([
      201,
      [
        ['Content-Type', 'text/plain'],
        ['X-Path', '/x'],
      ],
      'GET /x?a=b',
    ])
    const withBody = await run(localRedirects(makeApp([], [])), { PATH_INFO: '/with-body' })
    expect([withBody.rec.status, withBody.text]).toEqual([200, 'a body: not a local redirect\n'])
    expect(withBody.rec.headers).toEqual([
      ['Location', '/mount/new'],
      ['Content-Type', 'text/plain'],
    ])
  })

  it('answers 500 after maxRedirects in a row, and says why in tsgi.errors', async () => {
    const seen: Environ[] = []
    const closed: string[] = []
    const { rec, text } = await run(localRedirects(makeApp(seen, closed), { maxRedirects: 3 }), { PATH_INFO: '/loop' })
    expect([rec.status, text]).toEqual([500, 'Internal Server Error\n'])
    expect(seen).toHaveLength(4)
    expect(closed).toHaveLength(4)
    expect(rec.log.join('')).toContain('more than 3 local redirects in a row')
  })

  it('follows the TSGI contract on both sides (validate)', async () => {
    const seen: Environ[] = []
    const app = validate(localRedirects(validate(makeApp(seen, []))))
    const { rec, result, text } = await run(app, { PATH_INFO: '/old' })
    expect([result.error, rec.status, text, rec.log]).toEqual([undefined, 201, 'GET /café/new?x=1', []])
  })

  it('closes the app body when the gateway stops early', async () => {
    const closed: string[] = []
    const app: App = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain']])
      return (function* () {
        try {
          yield 'one'
          yield 'two'
        } finally {
          closed.push('closed')
        }
      })()
    }
    const { environ } = makeEnviron()
    const body = (await localRedirects(app)(environ, () => async () => {})) as AsyncIterable<string | Uint8Array>
    const iterator = body[Symbol.asyncIterator]()
    expect((await iterator.next()).value).toBe('one')
    await iterator.return?.()
    expect(closed).toEqual(['closed'])
  })
})
