// fromFetch's own objects: the Request a handler gets (a real Request whose signal is tsgi.signal) and
// the response bytes taken as they are when a Response was made from a string or bytes.
import { describe, expect, it } from 'vitest'
import { fromFetch, requestOf } from '../../src/bridges/fetch.js'
import { bodySource } from '../../src/bridges/response-source.js'
import { runApp } from '../../src/core/engine.js'
import { BodyInput } from '../../src/core/input.js'
import { bodyText, makeEnviron, recordingSink } from '../_helpers/fake-gateway.js'

function postEnviron(body: string) {
  const input = new BodyInput({ expectedLength: body.length })
  input.push(new TextEncoder().encode(body))
  input.end()
  return makeEnviron(
    { REQUEST_METHOD: 'POST', CONTENT_LENGTH: String(body.length), HTTP_X_TRACE: 't1', HTTP_HOST: 'example.test' },
    input,
  )
}

describe('requestOf', () => {
  it('is a Request whose signal is tsgi.signal itself, aborting when the client leaves', () => {
    const { environ, rec } = makeEnviron()
    const request = requestOf(environ)
    expect(request).toBeInstanceOf(Request)
    expect(request.signal).toBe(environ['tsgi.signal'])
    expect(request.signal.aborted).toBe(false)
    rec.controller.abort()
    expect(request.signal.aborted).toBe(true)
  })

  it('works wherever a Request does: new Request(request), clone(), the body methods', async () => {
    const { environ } = postEnviron('a=1&b=2')
    const request = requestOf(environ)
    const copy = new Request(request, { headers: { 'x-extra': 'yes' } })
    expect([copy.method, copy.url, copy.headers.get('x-extra')]).toEqual(['POST', 'http://example.test/', 'yes'])
    expect(await copy.text()).toBe('a=1&b=2')
    expect(request.bodyUsed).toBe(true) // new Request(request) takes the body, as the Fetch standard says
    const { environ: again } = postEnviron('{"n":1}')
    const twin = requestOf(again).clone()
    expect([await twin.json(), twin.headers.get('x-trace')]).toEqual([{ n: 1 }, 't1'])
  })
})

describe('response bodies made from a string or bytes', () => {
  it('bodySource gives the string or bytes, never a stream, and nothing once the body was read', async () => {
    const stream = new Response(new ReadableStream({ start: (c) => c.close() }))
    expect(bodySource(stream)).toBeUndefined()
    const text = new Response('hello')
    const bytes = new Response(new Uint8Array([1, 2, 3]))
    // Node 24 keeps undici's state private: then there is no source and the body streams.
    if (bodySource(text) !== undefined) {
      expect(bodySource(text)).toBe('hello')
      expect(bodySource(bytes)).toEqual(new Uint8Array([1, 2, 3]))
    }
    await text.text()
    expect(bodySource(text)).toBeUndefined()
  })

  it('the bytes are the same either way; a string body gets its Content-Length where it is known', async () => {
    const { environ, rec } = makeEnviron()
    await runApp(
      fromFetch(() => new Response('héllo\n')),
      environ,
      recordingSink(rec),
    )
    expect(bodyText(rec)).toBe('héllo\n')
    const length = rec.headers?.find(([name]) => name === 'Content-Length')?.[1]
    expect(length).toBe(bodySource(new Response('x')) === undefined ? undefined : '7')
  })
})
