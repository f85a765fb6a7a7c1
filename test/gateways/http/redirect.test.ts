// RFC 3875 §6.2.2 local redirects on the dev server: 200 + `Location: /abs/path` + no body is served
// again internally, as Apache does (GET, REDIRECT_* variables, at most 10 hops).
import { afterEach, describe, expect, it } from 'vitest'
import environ from '../../../examples/environ.js'
import type { App, Environ, StartResponse } from '../../../src/app.js'
import { parseDump, rawRequest, start, type TestServer } from './_helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

/** `/old*` redirects locally to `/new?moved=1`; anything else dumps its environ. */
const router: App = (env: Environ, startResponse: StartResponse) => {
  if (env.PATH_INFO.startsWith('/old')) {
    startResponse('200 OK', [['Location', '/new?moved=1']])
    return []
  }
  return environ(env, startResponse)
}

describe('local redirects', () => {
  it('re-dispatches internally: the client sees only the target', async () => {
    server = await start(router)
    const res = await fetch(new URL('/old/x?q=a%20b', server.url))
    expect(res.status).toBe(200)
    expect(res.headers.get('location')).toBeNull()
    const env = parseDump(await res.text())
    expect({
      REQUEST_METHOD: env.get('REQUEST_METHOD'),
      PATH_INFO: env.get('PATH_INFO'),
      QUERY_STRING: env.get('QUERY_STRING'),
      REQUEST_URI: env.get('REQUEST_URI'),
      REDIRECT_STATUS: env.get('REDIRECT_STATUS'),
      REDIRECT_URL: env.get('REDIRECT_URL'),
      REDIRECT_QUERY_STRING: env.get('REDIRECT_QUERY_STRING'),
    }).toEqual({
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/new',
      QUERY_STRING: 'moved=1',
      REQUEST_URI: '/old/x?q=a%20b',
      REDIRECT_STATUS: '200',
      REDIRECT_URL: '/old/x',
      REDIRECT_QUERY_STRING: 'q=a%20b',
    })
    expect(await server.nextLog(/"GET \/old\/x/)).toMatch(/" 200 \d+ /)
  })

  it('a POST becomes a bodyless GET', async () => {
    server = await start(router)
    const res = await rawRequest(
      server.port,
      'POST /old HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    )
    const env = parseDump(res.body)
    expect(env.get('REQUEST_METHOD')).toBe('GET')
    expect(env.has('CONTENT_LENGTH')).toBe(false)
    expect(env.has('CONTENT_TYPE')).toBe(false)
    expect(env.has('REDIRECT_QUERY_STRING')).toBe(false)
  })

  it('HEAD stays HEAD, so no body is sent', async () => {
    server = await start(router)
    const res = await rawRequest(server.port, 'HEAD /old HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    expect(res.statusLine).toBe('HTTP/1.1 200 OK')
    expect(res.headers.find(([name]) => name === 'content-length')?.[1]).toMatch(/^[1-9]\d*$/)
    expect(res.body).toBe('')
  })

  it('Location with a body, another status, or a network-path is sent to the client as is', async () => {
    server = await start((env, startResponse) => {
      const cases: Record<string, [string, string, string[]]> = {
        '/body': ['200 OK', '/new', ['a document']],
        '/found': ['302 Found', '/new', []],
        '/net': ['200 OK', '//evil.example/x', []],
      }
      const [status, location, body] = cases[env.PATH_INFO] ?? ['200 OK', '', ['target']]
      startResponse(status, location ? [['Location', location]] : [])
      return body
    })
    const results = []
    for (const path of ['/body', '/found', '/net']) {
      const res = await fetch(new URL(path, server.url), { redirect: 'manual' })
      results.push([res.status, res.headers.get('location'), await res.text()])
    }
    expect(results).toEqual([
      [200, '/new', 'a document'],
      [302, '/new', ''],
      [200, '//evil.example/x', ''],
    ])
  })

  it('chains of redirects are followed up to 10 hops', async () => {
    server = await start((env, startResponse) => {
      const hop = Number(env.PATH_INFO.slice(1))
      if (hop < 10) {
        startResponse('200 OK', [['Location', `/${hop + 1}`]])
        return []
      }
      startResponse('200 OK', [])
      return [`arrived after ${hop} hops from ${String(env.REDIRECT_URL)}`]
    })
    expect(await (await fetch(new URL('/0', server.url))).text()).toBe('arrived after 10 hops from /9')
  })

  it('an 11th redirect in a row is a 500, logged to tsgi.errors', async () => {
    server = await start((_env, startResponse) => {
      startResponse('200 OK', [['Location', '/again']])
      return []
    })
    const res = await fetch(new URL('/loop', server.url))
    expect(res.status).toBe(500)
    expect(await res.text()).toBe('Internal Server Error\n')
    expect(server.errors.join('')).toContain('more than 10 local redirects')
  })

  it('a Location whose path cannot be decoded is a 500', async () => {
    server = await start((_env, startResponse) => {
      startResponse('200 OK', [['Location', '/a%2Fb']])
      return []
    })
    const res = await fetch(server.url)
    expect(res.status).toBe(500)
    expect(server.errors.join('')).toContain('bad local redirect')
  })

  it('a non-ASCII Location path is decoded as UTF-8', async () => {
    server = await start((env, startResponse) => {
      if (env.PATH_INFO === '/') {
        startResponse('200 OK', [['Location', '/café%20x']])
        return []
      }
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']])
      return [env.PATH_INFO]
    })
    expect(await (await fetch(server.url)).text()).toBe('/café x')
  })
})
