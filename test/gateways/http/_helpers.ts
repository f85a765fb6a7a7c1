// Shared by the dev-server tests: a server on 127.0.0.1:0 that records its access log and tsgi.errors,
// and a raw-socket client for what fetch would normalise (repeated headers, HEAD framing).
import { connect } from 'node:net'
import type { App } from '../../../src/app.js'
import { type DevServer, serve } from '../../../src/gateways/http/index.js'

export interface TestServer extends DevServer {
  logs: string[]
  errors: string[]
  /** Resolves with the first access-log line matching `pattern`. */
  nextLog(pattern: RegExp): Promise<string>
}

export async function start(app: App): Promise<TestServer> {
  const logs: string[] = []
  const errors: string[] = []
  const watchers: Array<() => void> = []
  const server = await serve(app, {
    port: 0,
    log: (line) => {
      logs.push(line)
      for (const watch of watchers.splice(0)) watch()
    },
    errors: { write: (message) => void errors.push(message) },
  })
  const nextLog = (pattern: RegExp): Promise<string> =>
    new Promise((resolve) => {
      const check = (): void => {
        const line = logs.find((l) => pattern.test(l))
        if (line !== undefined) resolve(line)
        else watchers.push(check)
      }
      check()
    })
  return Object.assign(server, { logs, errors, nextLog })
}

export interface RawResponse {
  statusLine: string
  /** Header lines as sent, in order, names lower-cased. */
  headers: Array<[string, string]>
  body: string
}

/** Sends `request` verbatim (it should say `Connection: close`) and parses what comes back. */
export function rawRequest(port: number, request: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', reject)
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1')
      const split = text.indexOf('\r\n\r\n')
      const [statusLine = '', ...lines] = text.slice(0, split).split('\r\n')
      const headers = lines.map((line): [string, string] => {
        const colon = line.indexOf(':')
        return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()]
      })
      resolve({ statusLine, headers, body: text.slice(split + 4) })
    })
    socket.write(request)
  })
}

/** `key: value` lines of the environ example app, as a map. */
export function parseDump(text: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(': ')
    if (colon > 0) map.set(line.slice(0, colon), line.slice(colon + 2))
  }
  return map
}
