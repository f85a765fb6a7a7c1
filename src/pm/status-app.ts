// The operator's two paths, answered by the responder itself when the web server forwards them (PHP-FPM's
// pm.status_path and ping.path, O-06): the status page as JSON or OpenMetrics, and `pong`. Everything
// else goes to the app.
import type { App, Body, Environ, StartResponse } from '../app.js'
import { callApp } from '../core/call.js'
import { type PoolStatus, statusJson, statusOpenMetrics } from './status.js'

export interface OperatorPaths {
  statusPath?: string | undefined
  pingPath?: string | undefined
  /** The pool's figures now (from the manager, or the lone responder's own). */
  status: () => Promise<PoolStatus>
}

const NO_STORE: Array<[string, string]> = [['Cache-Control', 'no-store']]

/** `app` with the status and ping paths in front of it; `app` itself when neither is set. */
export function withOperatorPaths(app: App, paths: OperatorPaths): App {
  const { statusPath, pingPath } = paths
  if (statusPath === undefined && pingPath === undefined) return app
  return function operatorPaths(environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
    const path = requestPath(environ)
    if (path === pingPath) return answer(startResponse, 'text/plain; charset=utf-8', 'pong\n')
    if (path === statusPath) return statusPage(environ, startResponse, paths.status)
    return callApp(app, environ, startResponse)
  }
}

/** The path the client asked for: SCRIPT_NAME + PATH_INFO (nginx, lighttpd), else REQUEST_URI's path. */
function requestPath(environ: Environ): string {
  const path = `${environ.SCRIPT_NAME ?? ''}${environ.PATH_INFO ?? ''}`
  if (path !== '') return path
  const uri = typeof environ.REQUEST_URI === 'string' ? environ.REQUEST_URI : ''
  const query = uri.indexOf('?')
  return query === -1 ? uri : uri.slice(0, query)
}

async function statusPage(environ: Environ, startResponse: StartResponse, status: () => Promise<PoolStatus>) {
  const figures = await status()
  const query = new URLSearchParams(environ.QUERY_STRING ?? '')
  const accept = typeof environ.HTTP_ACCEPT === 'string' ? environ.HTTP_ACCEPT : ''
  // Prometheus asks for OpenMetrics in its Accept header; a person adds ?openmetrics.
  if (query.has('openmetrics') || accept.includes('application/openmetrics-text')) {
    const type = 'application/openmetrics-text; version=1.0.0; charset=utf-8'
    return answer(startResponse, type, statusOpenMetrics(figures))
  }
  return answer(startResponse, 'application/json', statusJson(figures))
}

function answer(startResponse: StartResponse, type: string, text: string): Body {
  startResponse('200 OK', [['Content-Type', type], ...NO_STORE])
  return [text]
}
