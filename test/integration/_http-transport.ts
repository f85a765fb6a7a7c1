// A conformance Transport (test/_transports.ts) for an HTTP front: requests go over HTTP/1.1 to a real web
// server started by servers.test.ts, which passes them to the app by CGI or FastCGI; what the app wrote to
// tsgi.errors is read back from the server's error log. The server's differences are capability flags.
import { existsSync, readFileSync, statSync } from 'node:fs'
import {
  type Capabilities,
  type ConfRequest,
  type ConfResponse,
  httpExchange,
  type Transport,
  type TransportFactory,
} from '../_transports.js'
import { sleep } from './_harness.js'
import { declareCheck, record } from './_results.js'

export interface HttpFront {
  /** The path's id in the compatibility table (test/integration/_results.ts). */
  id: string
  name: string
  port: () => number
  /** Error logs that receive the app's tsgi.errors (FastCGI STDERR records, a CGI script's stderr). */
  logs: () => string[]
  caps: Capabilities
  /** Why this path cannot run here (its server is not installed). */
  skip?: string
}

export function httpFront(front: HttpFront): TransportFactory {
  return {
    name: front.name,
    skip: front.skip,
    // Each conformance check is one more result in this path's row of docs/COMPATIBILITY.md.
    report: {
      declare: () => declareCheck(front.id),
      record: (check, passed) => record(front.id, `conformance: ${check}`, passed ? 'pass' : 'fail'),
    },
    async start(): Promise<Transport> {
      const send = (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => roundTrip(front, request, abandon)
      return {
        name: front.name,
        caps: front.caps,
        send: (request) => send(request, false),
        abandon: async (request) => void (await send(request, true)),
        close: async () => {}, // the server belongs to servers.test.ts
      }
    },
  }
}

async function roundTrip(front: HttpFront, request: ConfRequest, abandon: boolean): Promise<ConfResponse> {
  const logs = front.logs()
  const offsets = logs.map(size)
  const response = await httpExchange(front.port(), front.caps.scriptName, request, abandon)
  return { ...response, stderr: await logGrowth(logs, offsets) }
}

function size(path: string): number {
  return existsSync(path) ? statSync(path).size : 0
}

/**
 * What the logs gained since `offsets`. A server writes a STDERR record to its log when it reads it, which
 * may be just after it has sent the response: wait until the logs stop growing (bounded; never asserted on).
 */
async function logGrowth(logs: string[], offsets: number[]): Promise<string> {
  let last = logs.map(size)
  for (let i = 0; i < 20; i++) {
    await sleep(15)
    const now = logs.map(size)
    if (now.every((n, j) => n === last[j]) && i >= 1) break
    last = now
  }
  return logs
    .map((path, j) => (existsSync(path) ? appStderr(readFileSync(path).subarray(offsets[j]).toString('utf8')) : ''))
    .join('')
}

/**
 * The app's tsgi.errors text out of a server's error log, each server's own framing taken off: Apache
 * mod_proxy_fcgi logs a STDERR record as `AH01071: Got error '...'` (escaped), mod_fcgid, lighttpd and h2o
 * one line each behind a prefix (h2o: `[lib/handler/fastcgi.c] in request:PATH:`), nginx a record as
 * `FastCGI sent in stderr: "..."` (its final newline cut), and mod_cgid, HAProxy and a responder's own log
 * copy it as is. The servers' own timestamped messages are left out.
 */
export function appStderr(log: string): string {
  let out = ''
  const nginx = /FastCGI sent in stderr: "([\s\S]*?)" while /g
  for (const match of log.matchAll(nginx)) out += `${match[1]}\n`
  const rest = log.replace(nginx, '')
  for (const line of rest.split('\n')) {
    const proxy = / AH01071: Got error '(.*)'$/.exec(line)
    const prefixed =
      / mod_fcgid: stderr: (.*)$/.exec(line) ??
      /\) FastCGI-stderr:(.*)$/.exec(line) ??
      /^\[lib\/handler\/fastcgi\.c\] in request:.*?:(.*)$/.exec(line)
    if (proxy !== null) out += unescapeApache(proxy[1]!)
    else if (prefixed !== null) out += `${prefixed[1]}\n`
    else if (line !== '' && !/^(\[\w{3} \w{3} |\d{4}[-/]\d\d[-/]\d\d )/.test(line)) out += `${line}\n`
  }
  return out
}

/** Apache's error log escapes a message (ap_escape_logitem): `\n`, `\\`, `\"` and `\xNN` for other bytes. */
function unescapeApache(text: string): string {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c !== '\\' || i + 1 >= text.length) {
      bytes.push(...Buffer.from(c, 'utf8'))
      continue
    }
    const next = text[++i]!
    if (next === 'x') {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else bytes.push(({ n: 10, r: 13, t: 9 } as Record<string, number>)[next] ?? next.charCodeAt(0))
  }
  return Buffer.from(bytes).toString('utf8')
}
