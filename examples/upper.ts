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
  const decoder = new TextDecoder()
  // for-await closes the inner body (calls its return()) when we stop early: SPEC §5.3.
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    if (text) yield text.toUpperCase()
  }
  const rest = decoder.decode()
  if (rest) yield rest.toUpperCase()
}

function withoutContentLength(headers: HeaderList): HeaderList {
  return headers.filter(([name]) => name.toLowerCase() !== 'content-length')
}

export default upperware(hello)
