// The front's two backends: a CGI script started per request by the CGI host, and a FastCGI responder
// reached through our client over kept connections (FastCGI spec §5.1, FCGI_KEEP_CONN).

import { TsgiError } from '../errors.js'
import { type CgiExit, type CgiRequest, runCgiScript } from '../hosts/cgi/index.js'
import { FastcgiClient } from '../hosts/fastcgi/client.js'
import { responseFields } from '../protocol/cgi/fields.js'
import type { Backend } from './types.js'

export interface CgiBackendOptions {
  timeoutMs?: number
  env?: Readonly<Record<string, string>>
  log?: (line: string) => void
}

/** Runs `script` once per request (RFC 3875): a new process, its output parsed by the shared CGI code. */
export function cgiBackend(script: string, options: CgiBackendOptions): Backend {
  return async ({ vars, body, signal }) => {
    const request: CgiRequest = { script, vars, body, signal }
    if (options.timeoutMs !== undefined) request.timeoutMs = options.timeoutMs
    if (options.env !== undefined) request.env = options.env
    if (options.log !== undefined) request.log = options.log
    const response = await runCgiScript(request)
    if (response.kind === 'nph') return { kind: 'nph', raw: response.raw }
    const { status, reason, headers } = response
    return { kind: 'cgi', status, reason, headers, body: untilExit(response.body, response.exit, script) }
  }
}

/**
 * The body, then the exit status: a script that fails after its head went out exits non-zero (C-20) or
 * is killed, and the client must see a cut response (no last chunk), not a complete-looking one.
 * The host's body already throws for a timeout or an abort.
 */
async function* untilExit(body: AsyncIterable<Uint8Array>, exit: Promise<CgiExit>, script: string) {
  yield* body
  // A script may close stdout and keep working: its response is complete then, so wait only briefly.
  const ended = await Promise.race([
    exit,
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 1000).unref()),
  ])
  if (ended === undefined) return
  const { code, signal } = ended
  if (code !== 0) {
    const how = signal === null ? `exited with ${code}` : `was killed by ${signal}`
    throw new TsgiError('ERR_BODY_INCOMPLETE', `cgi: ${script} ${how} after its response began`)
  }
}

/** Forwards to one FastCGI responder; what the app writes to tsgi.errors (STDERR) goes to `log`. */
export function fastcgiBackend(client: FastcgiClient, log: (line: string) => void): Backend {
  return async ({ vars, body, signal }) => {
    const response = await client.request({ params: vars, ...(body ? { body } : {}), signal })
    let headers: Array<[string, string]>
    try {
      // The checks the CGI host makes of a script's head (S-04, C-18): fields node:http can write as they are.
      const scriptName = vars.find(([name]) => name === 'SCRIPT_NAME')?.[1] ?? ''
      headers = responseFields(scriptName, response.reason, response.headers)
    } catch (error) {
      void response.body[Symbol.asyncIterator]().return?.() // ABORT_REQUEST: the connection is not left pinned
      throw error
    }
    void response.stderr.then(
      (text) => {
        for (const line of text.split('\n')) if (line !== '') log(line)
      },
      () => {},
    )
    return {
      kind: 'cgi',
      status: response.status,
      reason: response.reason,
      headers,
      body: response.body,
    }
  }
}

export { FastcgiClient }
