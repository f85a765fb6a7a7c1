// runCgiScript: one request through one CGI script (RFC 3875), the way Apache mod_cgi and Go's
// net/http/cgi.Handler run them: environment, spawn, body in, head parsed, body out, exit collected.
import { basename, dirname } from 'node:path'
import { TsgiError } from '../../errors.js'
import { responseFields } from '../../protocol/cgi/fields.js'
import { scriptEnvironment } from './environment.js'
import { checkScript } from './executable.js'
import { bodyOf, readFirst, readHead } from './output.js'
import { ScriptRun } from './process.js'
import { defaultLog, logLines } from './stderr.js'
import { pumpBody } from './stdin.js'
import type { CgiRequest, CgiResponse } from './types.js'

/** mod_cgid's CGIDScriptTimeout default (C-21). */
export const DEFAULT_TIMEOUT_MS = 60_000
/** Largest response header block by default; the FastCGI client's default too. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024

/**
 * Starts the script; resolves when the response head has been parsed (cgi) or its first byte arrived
 * (nph). Rejects with a TsgiError carrying `status`: 502 when the script could not be started (the
 * message names the path and the errno), wrote nothing, garbage or too large a head; 504 when the
 * timeout hits before the head; ERR_ABORTED when the signal fired first. The process is reaped and its
 * group killed in every one of these cases.
 */
export async function runCgiScript(request: CgiRequest): Promise<CgiResponse> {
  const { script, signal } = request
  checkScript(script)
  const env = scriptEnvironment(request)
  if (signal?.aborted) throw abortError(signal)
  const timeoutMs = limit('timeoutMs', request.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  const maxHeaderBytes = limit('maxHeaderBytes', request.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES)
  const cwd = request.cwd ?? dirname(script)
  const run = new ScriptRun({ script, cwd, env, timeoutMs, signal })
  await run.started()
  const { stdin, stdout, stderr } = run.child
  void pumpBody(request.body, stdin, () => run.activity())
  logLines(stderr, request.log ?? defaultLog(script))
  const out = stdout[Symbol.asyncIterator]()
  try {
    if (request.nph ?? basename(script).startsWith('nph-')) {
      const first = await readFirst(out, run)
      return { kind: 'nph', raw: bodyOf(first, out, run), exit: run.exit }
    }
    const { head, rest } = await readHead(out, run, maxHeaderBytes)
    const headers = responseFields(script, head.reason, head.headers)
    return {
      kind: 'cgi',
      status: head.status,
      reason: head.reason,
      headers,
      body: bodyOf(rest, out, run),
      exit: run.exit,
    }
  } catch (err) {
    run.stop()
    throw err
  }
}

/** A positive number; Infinity is allowed (no limit). */
function limit(name: string, value: number): number {
  if (typeof value === 'number' && value > 0) return value
  throw new TsgiError('ERR_INVALID_ARGUMENT', `cgi: ${name} must be a positive number, got ${String(value)}`)
}

function abortError(signal: AbortSignal): TsgiError {
  const reason: unknown = signal.reason
  return reason instanceof TsgiError ? reason : new TsgiError('ERR_ABORTED', 'cgi: request aborted', { cause: reason })
}
