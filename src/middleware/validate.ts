// validate(app): a middleware that checks both sides of TSGI at run time (SPEC §8), as wsgiref.validate
// and Rack::Lint do: the environ and calls the gateway makes, and everything the app does with them.
import type { App, Body, Environ, StartResponse } from '../app.js'
import { callApp, isApp } from '../core/call.js'
import type { TsgiError } from '../errors.js'
import { AppResponse } from './validate/app-response.js'
import { CloseWatch, wrapBody } from './validate/body.js'
import { describe, isThenable, violation } from './validate/common.js'
import { checkEnviron } from './validate/environ.js'
import { wrapErrors, wrapInput } from './validate/streams.js'

export interface ValidateOptions {
  /**
   * Receives violations found after the fact, when nobody is there to catch a throw (the gateway never
   * closed the body). Default: the message is written to the gateway's tsgi.errors.
   */
  onViolation?: (error: TsgiError, environ: Environ) => void
  /** How long the gateway has to call the body's return() once the body ended or the request was aborted. */
  closeTimeoutMs?: number
}

const DEFAULT_CLOSE_TIMEOUT_MS = 5000

/**
 * Wraps `app` so that every TSGI rule either side breaks throws `TsgiError('ERR_VALIDATION')` where it
 * happens (the gateway answers 500). Nothing that passes through is changed.
 * @example runCgi(validate(app))  // and around a middleware: validate(upperware(validate(app)))
 */
export function validate(app: App, options: ValidateOptions = {}): App {
  if (!isApp(app)) throw violation(`validate() needs an application, got ${describe(app)} (SPEC §2)`)
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS
  return function validated(...args: unknown[]): Body | Promise<Body> {
    if (args.length !== 2)
      throw violation(`an app is called with (environ, startResponse), got ${args.length} arguments (SPEC §2)`)
    const [environ, startResponse] = args
    checkEnviron(environ)
    if (typeof startResponse !== 'function') {
      throw violation(`startResponse must be a function, got ${describe(startResponse)} (SPEC §4)`)
    }
    const exchange = new AppResponse(environ, startResponse as StartResponse)
    const watch = new CloseWatch((message) => report(options, environ, violation(message)), closeTimeoutMs)
    environ['tsgi.signal'].addEventListener('abort', () => watch.stopped('the request was aborted'), { once: true })
    const body = callApp(app, appEnviron(environ, exchange), exchange.startResponse)
    if (isThenable(body)) return Promise.resolve(body).then((resolved) => wrapBody(resolved, exchange, watch))
    return wrapBody(body, exchange, watch)
  }
}

/** The app gets a copy: the gateway keeps its own streams (it may drain tsgi.input afterwards). */
function appEnviron(environ: Environ, exchange: AppResponse): Environ {
  const copy: Environ = {
    ...environ,
    'tsgi.input': wrapInput(environ['tsgi.input'], exchange, 'tsgi.input'),
    'tsgi.errors': wrapErrors(environ['tsgi.errors']),
  }
  const data = environ['tsgi.fastcgi.data']
  if (data !== undefined) copy['tsgi.fastcgi.data'] = wrapInput(data, exchange, 'tsgi.fastcgi.data')
  return copy
}

function report(options: ValidateOptions, environ: Environ, error: TsgiError): void {
  if (options.onViolation !== undefined) {
    options.onViolation(error, environ)
    return
  }
  try {
    environ['tsgi.errors'].write(`${error.message}\n`)
  } catch {
    // A broken error stream must not turn a report into a crash.
  }
}
