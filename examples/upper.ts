// The seed's Upperware: a middleware is an app to its server and a server to its app (SPEC §6).
// It changes the body, so it must drop the wrapped app's Content-Length (the seed's warning).
import type { App, Body, Environ, HeaderList, StartResponse } from '../src/app.js'
import { callApp } from '../src/core/call.js'
import hello from './hello.js'

export function upperware(app: App): App {
  return async function upper(environ: Environ, startResponse: StartResponse): Promise<Body> {
    const wrappedStart: StartResponse = (status, headers, excInfo) =>
      startResponse(status, withoutContentLength(headers), excInfo)
    const body = await callApp(app, environ, wrappedStart)
    return upperBody(body)
  }
}

async function* upperBody(body: Body): AsyncGenerator<string> {
  const iterator = Symbol.asyncIterator in body ? body[Symbol.asyncIterator]() : body[Symbol.iterator]()
  const decoder = new TextDecoder()
  try {
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
      const text = typeof step.value === 'string' ? step.value : decoder.decode(step.value, { stream: true })
      if (text) yield text.toUpperCase()
    }
    const rest = decoder.decode()
    if (rest) yield rest.toUpperCase()
  } finally {
    // SPEC §5.3 and §6: the inner body is closed always, after a normal end too (for-await would not).
    await iterator.return?.()
  }
}

function withoutContentLength(headers: HeaderList): HeaderList {
  return headers.filter(([name]) => name.toLowerCase() !== 'content-length')
}

export default upperware(hello)
