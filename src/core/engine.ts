// The response engine every gateway shares (wsgiref's BaseHandler): runs an App, enforces the
// startResponse rules, validates status and headers before any byte, closes the body, and turns
// app errors into a 500. Gateways supply only the I/O, through a ResponseSink. Pure: no node:* imports.
import type { App, Environ, HeaderList } from '../app.js'

/** The I/O half a gateway implements. Calls arrive in order: head, body*, then end or abort. */
export interface ResponseSink {
  /** Status and validated headers, at most once, before any body byte. */
  head(status: number, reason: string, headers: HeaderList): void | Promise<void>
  /** Body bytes: never empty, never for HEAD/1xx/204/304. A promise means "wait" (backpressure). */
  body(chunk: Uint8Array): void | Promise<void>
  /** The response is complete. */
  end(): void | Promise<void>
  /** The response failed after head() was called: the gateway must make the failure visible. */
  abort(error: unknown): void | Promise<void>
}

export interface RunOptions {
  /** Largest header block (sum of `Name: value\r\n` lines) accepted from the app; default unlimited. */
  maxHeaderBytes?: number
}

/** What happened, for access logs and FastCGI's appStatus. */
export interface RunResult {
  /** The status sent (500 when the engine answered for a failed app), or 0 if nothing was sent. */
  status: number
  /** Body bytes handed to the sink. */
  bytes: number
  /** The app's or gateway's failure, already logged to tsgi.errors. */
  error?: unknown
  /** True when the client went away (tsgi.signal fired) before the response ended. */
  aborted: boolean
}

export declare function runApp(app: App, environ: Environ, sink: ResponseSink, options?: RunOptions): Promise<RunResult>
