// The script's stdout: the CGI head read off its start (RFC 3875 §6) or, for an NPH script, the first
// bytes (§5), then the rest as a body iterable pulled from the pipe, so a slow consumer pauses the script.

import { TsgiError } from '../../errors.js'
import { badHead, type CgiHead, parseCgiHead } from '../../protocol/cgi/parse.js'
import type { ScriptRun } from './process.js'

/** Chunks of stdout as the consumer asks for them (a Readable's async iterator: it reads on demand). */
export type Chunks = AsyncIterator<Uint8Array>

/** Reads up to the blank line after the head; the bytes after it are `rest`. 502 for a bad or large head. */
export async function readHead(
  out: Chunks,
  run: ScriptRun,
  maxHeaderBytes: number,
): Promise<{ head: CgiHead; rest: Uint8Array }> {
  const script = run.options.script
  let bytes: Uint8Array = new Uint8Array(0)
  for (;;) {
    const next = await nextChunk(out, run)
    if (next === undefined)
      throw await endedEarly(run, bytes.length === 0 ? 'wrote no response' : 'stopped inside its header block')
    bytes = bytes.length === 0 ? next : Buffer.concat([bytes, next])
    const head = parseCgiHead(bytes)
    if (head instanceof TsgiError) throw badHead(`${script}: ${head.message.replace(/^cgi: /, '')}`)
    if ((head?.bodyStart ?? bytes.length) > maxHeaderBytes) {
      throw badHead(`${script}: response header block over ${maxHeaderBytes} bytes`, 'ERR_HEADER_BLOCK_TOO_LARGE')
    }
    if (head !== undefined) return { head, rest: bytes.subarray(head.bodyStart) }
  }
}

/** An NPH script's first bytes (RFC 3875 §5): what the response is taken to start with. 502 for none. */
export async function readFirst(out: Chunks, run: ScriptRun): Promise<Uint8Array> {
  for (;;) {
    const next = await nextChunk(out, run)
    if (next === undefined) throw await endedEarly(run, 'wrote no response')
    if (next.length > 0) return next
  }
}

/**
 * The rest of stdout, `first` included, for one consumer. It ends at EOF, fails with the run's failure
 * (ERR_TIMEOUT, ERR_ABORTED) when the run was cut, and stops the script when the consumer leaves early.
 */
export function bodyOf(first: Uint8Array, out: Chunks, run: ScriptRun): AsyncIterable<Uint8Array> {
  let taken = false
  return {
    [Symbol.asyncIterator]() {
      if (taken) throw new TsgiError('ERR_BODY_CONSUMED', 'cgi: the response body was already read')
      taken = true
      return drain(first, out, run)
    },
  }
}

async function* drain(first: Uint8Array, out: Chunks, run: ScriptRun): AsyncGenerator<Uint8Array> {
  let complete = false
  try {
    if (first.length > 0) yield first
    for (;;) {
      const next = await nextChunk(out, run)
      if (next === undefined) break
      run.activity()
      yield next
    }
    complete = true
  } finally {
    // return() from a consumer that left, or an error: the script's output is not wanted any more.
    if (!complete) run.stop()
  }
}

/** The next chunk, undefined at EOF; a pipe destroyed by a cut run throws the run's failure instead. */
async function nextChunk(out: Chunks, run: ScriptRun): Promise<Uint8Array | undefined> {
  try {
    const next = await out.next()
    if (run.failure !== undefined) throw run.failure
    return next.done ? undefined : next.value
  } catch (err) {
    throw run.failure ?? err
  }
}

/** The 502 for output that ended before a response (C-21), with the exit status when it comes soon. */
async function endedEarly(run: ScriptRun, what: string): Promise<TsgiError> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), 500)
  })
  const exit = await Promise.race([run.exit, late])
  clearTimeout(timer)
  const how =
    exit === undefined ? '' : exit.signal !== null ? ` (killed by ${exit.signal})` : ` (exit code ${exit.code})`
  // 127 is the shell's and env's "command not found": most often the interpreter of the #! line.
  const hint = exit?.code === 127 ? `: is the program on its #! line on the PATH scripts get (${pathOf(run)})?` : ''
  return badHead(`${run.options.script} ${what}${how}${hint}`)
}

function pathOf(run: ScriptRun): string {
  return `PATH=${run.options.env.PATH ?? ''}`
}
