// The CGI gateway (RFC 3875): serves one request per process from the environment, stdin and stdout.
// The only reader of process.env and stdin in CGI mode; environ and head come from the shared pure builders.
import type { Readable, Writable } from 'node:stream'
import type { App, Environ, ErrorStream } from '../../app.js'
import { adapt, SHAPES_HELP, type Shape, shapeOf } from '../../bridges/shape.js'
import type { MountOptions } from '../../bridges/url.js'
import { moduleExports } from '../../core/call.js'
import { type RunOptions, runApp } from '../../core/engine.js'
import { reasonPhrase } from '../../core/http.js'
import { BodyInput } from '../../core/input.js'
import { isTsgiError, TsgiError } from '../../errors.js'
import { buildEnviron } from '../../protocol/cgi/environ.js'
import { encodeLatin1, formatCgiHead } from '../../protocol/cgi/head.js'
import { describe, type FileSink, type Output, StdoutSink, writeQuietly } from './stdout.js'

export interface CgiOptions {
  /** The CGI variables; default: process.env as it was when this module loaded. */
  env?: Readonly<Record<string, string | undefined>>
  /** The request body source; default process.stdin, touched only when the app reads the body. */
  stdin?: Readable | (() => Readable)
  /** Where the response goes; default file descriptor 1 (process.stdout only if it is non-blocking). */
  stdout?: Writable
  /** tsgi.errors and the gateway's own messages; default process.stderr. */
  stderr?: Writable
  /** NPH mode (RFC 3875 §5); default: the script's or SCRIPT_NAME's last segment starts with `nph-`. */
  nph?: boolean
  /** The script path for the NPH default and the usage line; default process.argv[1]. */
  scriptPath?: string
  /** The command that runs this script, for the hint printed when it is run by hand; default scriptPath. */
  command?: string
  /** Largest request body accepted (ERR_BODY_TOO_LARGE, 413); default unlimited. */
  bodyLimit?: number
  /** Passed to the engine. */
  run?: RunOptions
}

// httpoxy (S-01, CVE-2016-5385 and siblings): a request's `Proxy:` header arrives as HTTP_PROXY, which
// proxy-aware libraries read from process.env. Deleting it when this module loads (in a CGI process only,
// REQUEST_METHOD is the signal, RFC 3875 §4.1.12) beats the top-level code of app modules imported after
// this one. The snapshot keeps it for environ, where it is just the request's Proxy header.
const bootEnv = scrubProcessEnv()

function scrubProcessEnv(): Record<string, string | undefined> | undefined {
  if (process.env.REQUEST_METHOD === undefined) return undefined
  const snapshot = { ...process.env }
  delete process.env.HTTP_PROXY // lowercase http_proxy cannot come from a header: left alone
  return snapshot
}

/** Serves one CGI request with `app`. Resolves to the exit code, also set as process.exitCode. */
export async function runCgi(app: App, options: CgiOptions = {}): Promise<number> {
  const stderr = lazyStderr(options.stderr)
  let code: number
  try {
    code = await serve(app, options, stderr)
  } catch (err) {
    stderr.write(`cgi: internal error: ${describe(err)}\n`)
    code = 1
  }
  process.exitCode = code
  return code
}

/**
 * Serves one CGI request with the app exported as `exportName` by an imported module (what a `tsgi build`
 * script and a compiled source script run), a Fetch or Node app through its bridge; `cgi` goes to runCgi.
 * A module without such an app still answers: a 500, the reason on stderr, exit code 1.
 */
export async function runCgiExport(
  namespace: Record<string, unknown>,
  exportName: string,
  label: string,
  options: { shape?: Shape; mount?: MountOptions; cgi?: CgiOptions } = {},
): Promise<number> {
  const value = moduleExports(namespace)[exportName]
  const shape = shapeOf(value, options.shape)
  if (shape !== undefined) return runCgi(await adapt(value, shape, options.mount), options.cgi)
  const what = exportName === 'default' ? 'the default export' : `export "${exportName}"`
  lazyStderr(options.cgi?.stderr).write(
    `cgi: ${what} of ${label} is not an app (got ${typeof value}): ${SHAPES_HELP}\n`,
  )
  if (process.env.REQUEST_METHOD !== undefined) writeError(options.cgi?.stdout, 500)
  process.exitCode = 1
  return 1
}

async function serve(app: App, options: CgiOptions, stderr: ErrorStream): Promise<number> {
  let env = options.env
  if (env === undefined) {
    env = bootEnv ?? { ...process.env }
    delete process.env.HTTP_PROXY
  }
  const scriptPath = options.scriptPath ?? process.argv[1] ?? 'script'
  if (!env.REQUEST_METHOD) {
    // Run by hand: one line saying what this is and how to try it.
    stderr.write(
      `cgi: ${scriptPath} is a CGI script (RFC 3875) for a web server; to try it: REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 ${options.command ?? scriptPath}\n`,
    )
    return 2
  }
  if (env.NODE_USE_ENV_PROXY) {
    stderr.write(
      'cgi: warning: NODE_USE_ENV_PROXY is set, so node read HTTP_PROXY (a request header, httpoxy) at start-up; unset it for CGI scripts\n',
    )
  }
  const controller = new AbortController()
  const errors = stderr
  const stdin = new LazyStdin(options.stdin)
  let environ: Environ
  try {
    environ = buildEnviron(env, {
      input: (length) => stdin.open(length, options.bodyLimit),
      errors,
      signal: controller.signal,
      multithread: false,
      multiprocess: true,
      runOnce: true,
    })
  } catch (err) {
    if (!isTsgiError(err)) throw err
    // The web server broke RFC 3875 §4.1 (or passed a client's bad Content-Length): answer, log, fail.
    errors.write(`${err.message}\n`)
    writeError(options.stdout, err.status)
    return 1
  }
  const nph = options.nph ?? (isNph(scriptPath) || isNph(environ.SCRIPT_NAME))
  const output: Output = options.stdout === undefined ? stdoutOutput() : { stream: options.stdout }
  const sink = new StdoutSink(output, errors, () => controller.abort(), {
    nph,
    protocol: environ.SERVER_PROTOCOL,
  })
  // Apache mod_cgid sends SIGTERM the moment the client goes away: fire tsgi.signal so the app stops and
  // its body is closed (SPEC §5.3) instead of dying mid-write. The process ends when the app lets go.
  const onTerm = (): void => controller.abort(new TsgiError('ERR_ABORTED', 'cgi: SIGTERM from the web server'))
  process.once('SIGTERM', onTerm)
  try {
    const result = await runApp(app, environ, sink, options.run)
    await sink.settled()
    // 0: a response went out or the web server went away; 1: the gateway failed to deliver it (C-20).
    if (sink.gone && !sink.failed) return 0
    return sink.failed || result.status === 0 ? 1 : 0
  } finally {
    process.off('SIGTERM', onTerm)
    stdin.close()
  }
}

/**
 * fd 1: through Bun's own file sink where there is one (on Bun, loading node:fs alone costs a CGI request
 * ~8 ms, docs/performance.md), else node:fs writeSync, loaded here so that Bun never loads it. Node before
 * 20.16 has no getBuiltinModule: process.stdout then (an import() would fail under the compile cache's vm).
 */
function stdoutOutput(): Output {
  const bun = (globalThis as { Bun?: { stdout?: { writer(): FileSink } } }).Bun
  if (bun?.stdout !== undefined) return { sink: bun.stdout.writer() }
  const fs = process.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined
  if (fs === undefined) return { stream: process.stdout }
  return { fd: 1, write: fs.writeSync, fallback: () => process.stdout }
}

/** stdin, opened the first time the app waits for body bytes (BodyInput's `paused` start). */
class LazyStdin {
  readonly #source: Readable | (() => Readable) | undefined
  #stream: Readable | undefined
  #length: number | undefined

  constructor(source: Readable | (() => Readable) | undefined) {
    this.#source = source
  }

  open(length: number | undefined, limit: number | undefined): BodyInput {
    if (length === 0) return BodyInput.empty()
    this.#length = length
    // RFC 3875 §4.2: with CONTENT_LENGTH read exactly that much; without it (Apache mod_cgid passes a
    // de-chunked body that way, C-04) read to EOF. BodyInput drops any byte past CONTENT_LENGTH.
    const input: BodyInput = new BodyInput({
      paused: true,
      onPause: () => this.#stream?.pause(),
      onResume: () => this.#resume(input),
      expectedLength: length,
      limit,
    })
    return input
  }

  close(): void {
    const stream = this.#stream
    if (stream === undefined) return
    stream.removeAllListeners('data')
    stream.pause()
    stream.destroy()
  }

  #resume(input: BodyInput): void {
    if (this.#stream !== undefined) {
      this.#stream.resume()
      return
    }
    const stream = typeof this.#source === 'function' ? this.#source() : (this.#source ?? process.stdin)
    this.#stream = stream
    // Run by hand on a terminal without CONTENT_LENGTH: an empty body, not a wait for ^D.
    const length = this.#length
    if (length === undefined && (stream as { isTTY?: boolean }).isTTY === true) {
      // Deferred: BodyInput calls onResume before it queues the read that is waiting.
      queueMicrotask(() => input.end())
      return
    }
    stream.on('data', (chunk: Uint8Array | string) => {
      input.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk)
      if (length !== undefined && input.received >= length) {
        // Never wait for more than CONTENT_LENGTH (RFC 3875 §4.2): the server may keep the pipe open.
        input.end()
        stream.pause()
      }
    })
    stream.on('end', () => input.end())
    stream.on('error', (err: Error) => {
      input.fail(
        new TsgiError('ERR_BODY_INCOMPLETE', `cgi: reading stdin failed: ${err.message}`, { status: 400, cause: err }),
      )
    })
    stream.resume()
  }
}

// process.stderr is made on first use: most requests never log, and making it is a measurable part of a
// CGI start (docs/performance.md).
function lazyStderr(given: Writable | undefined): ErrorStream {
  let stream: Writable | undefined
  return {
    write(message) {
      if (stream === undefined) {
        stream = given ?? process.stderr
        stream.on('error', ignore) // a closed error log must not crash the script
      }
      writeQuietly(stream, message)
    },
  }
}

function isNph(path: string): boolean {
  return path.slice(path.lastIndexOf('/') + 1).startsWith('nph-')
}

function writeError(stdout: Writable | undefined, status: number): void {
  const reason = reasonPhrase(status)
  const head = formatCgiHead(status, reason, [['Content-Type', 'text/plain; charset=utf-8']])
  const out = stdout ?? process.stdout
  out.on('error', ignore)
  out.write(encodeLatin1(`${head}${reason}\n`))
}

function ignore(): void {}
