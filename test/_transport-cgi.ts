// The CGI transport (one spawned process per request) and the request-to-CGI-variables mapping that the
// in-process and FastCGI transports share.
import { spawn } from 'node:child_process'
import { parseCgiHead } from '../src/protocol/cgi/parse.js'
import { bundlesOf } from './_bundles.js'
import type { AppSpec, ConfRequest, ConfResponse, TransportFactory } from './_transports.js'

/** Clean environment for children: NODE_EXTRA_CA_CERTS in this shell triples node's start-up. */
export function cleanEnv(vars: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...vars }
}

/** RFC 3875 §4.1 variables for a request, as a web server would send them; headers stay repeated (nginx < 1.23). */
export function cgiVars(request: ConfRequest, scriptName: string): Array<[string, string]> {
  const query = request.query ?? ''
  const vars: Array<[string, string]> = [
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['REQUEST_METHOD', request.method ?? 'GET'],
    ['SCRIPT_NAME', scriptName],
    ['PATH_INFO', request.path],
    ['QUERY_STRING', query],
    ['REQUEST_URI', `${encodeURI(scriptName + request.path)}${query ? `?${query}` : ''}`],
    ['SERVER_NAME', 'localhost'],
    ['SERVER_PORT', '80'],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', 'tsgi-conformance'],
    ['REMOTE_ADDR', '127.0.0.1'],
  ]
  if (request.body !== undefined) vars.push(['CONTENT_LENGTH', String(request.body.byteLength)])
  for (const [name, value] of request.headers ?? []) {
    const key = name.toLowerCase()
    if (key === 'content-type') vars.push(['CONTENT_TYPE', value])
    else if (key !== 'content-length') vars.push([`HTTP_${name.toUpperCase().replaceAll('-', '_')}`, value])
  }
  return vars
}

/** A process environment holds one value per name: merge like Apache (Cookie with `; ` as buildEnviron does). */
function envRecord(vars: Array<[string, string]>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of vars)
    env[name] = name in env ? `${env[name]}${name === 'HTTP_COOKIE' ? '; ' : ', '}${value}` : value
  return env
}

export const lower = (headers: Array<[string, string]>): Array<[string, string]> =>
  headers.map(([n, v]) => [n.toLowerCase(), v])

// --- CGI: one spawned process per request, a clean environment ---

/** `command`: what runs the bundled script (another runtime's binary and flags; default this node). */
export function cgiFactory(name: string, spec: AppSpec, command: string[] = [process.execPath]): TransportFactory {
  return {
    name,
    async start() {
      const { cgi: script } = await bundlesOf(spec)
      const run = (request: ConfRequest, abandon: boolean): Promise<ConfResponse> =>
        new Promise((done, fail) => {
          const child = spawn(command[0]!, [...command.slice(1), script], {
            env: cleanEnv(envRecord(cgiVars(request, '/app'))),
            stdio: ['pipe', 'pipe', 'pipe'],
          })
          const out: Buffer[] = []
          let headSeen = false
          let stderr = ''
          child.stdout.on('data', (chunk: Buffer) => {
            out.push(chunk)
            if (headSeen) {
              request.onData?.(chunk)
              return
            }
            const head = parseCgiHead(Buffer.concat(out))
            if (head === undefined || head instanceof Error) return
            headSeen = true
            if (abandon) {
              // The client went away: mod_cgid closes the pipe (EPIPE on the next write) and sends SIGTERM.
              child.stdout.destroy()
              child.kill('SIGTERM')
            }
            const body = Buffer.concat(out).subarray(head.bodyStart)
            if (body.byteLength > 0) request.onData?.(body)
          })
          child.stderr.on('data', (chunk: Buffer) => {
            stderr += chunk.toString('utf8')
          })
          child.stdin.on('error', () => {})
          child.stdin.end(request.body ?? '')
          child.on('error', fail)
          child.on('close', (code) => {
            try {
              done(fromCgiOutput(Buffer.concat(out), code === 0, stderr, abandon))
            } catch (err) {
              fail(err)
            }
          })
        })
      return {
        name,
        caps: { localRedirect: 'location', scriptName: '/app', multiprocess: true, runOnce: true, headerCap: false },
        send: (request) => run(request, false),
        abandon: async (request) => void (await run(request, true)),
        close: async () => {},
      }
    },
  }
}

function fromCgiOutput(raw: Buffer, exitedZero: boolean, stderr: string, partial: boolean): ConfResponse {
  const head = parseCgiHead(raw)
  if (head === undefined || head instanceof Error) {
    if (partial) return { status: 0, headers: [], body: raw, complete: false, stderr }
    throw new Error(`bad CGI output (${String(head)}): ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`)
  }
  return {
    status: head.status,
    headers: lower(head.headers),
    body: raw.subarray(head.bodyStart),
    complete: exitedZero,
    stderr,
  }
}
