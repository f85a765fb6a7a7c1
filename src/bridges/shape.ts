// Which kind of app a module exports, and the TSGI app that serves it: a TSGI app as it is, a Fetch app
// (an object with fetch(): Hono, `export default { fetch }`) through fromFetch, an Express or Connect app
// through fromNode. A plain function is taken as TSGI unless told otherwise (--shape fetch|node).
import type { App } from '../app.js'
import { isApp } from '../core/call.js'
import type { MountOptions } from './url.js'

export type Shape = 'tsgi' | 'fetch' | 'node'

export const SHAPES_HELP =
  'an app is a TSGI app (a function (environ, startResponse), a class, or an object with call()), ' +
  'a Fetch app (an object with fetch(request), like Hono; --shape fetch for a plain (request) => Response ' +
  'function), or a Node app (Express, Connect; --shape node for a plain (req, res) listener)'

/** The shape of `value`, or undefined when it is no app at all. `forced` is what --shape says. */
export function shapeOf(value: unknown, forced?: Shape): Shape | undefined {
  if (forced === 'fetch') return typeof value === 'function' || hasMethod(value, 'fetch') ? 'fetch' : undefined
  if (forced === 'node') return typeof value === 'function' ? 'node' : undefined
  if (forced === 'tsgi') return isApp(value) ? 'tsgi' : undefined
  if (hasMethod(value, 'fetch') && !hasMethod(value, 'call')) return 'fetch'
  // Express and Connect apps are functions with handle() and use().
  if (typeof value === 'function' && hasMethod(value, 'handle') && hasMethod(value, 'use')) return 'node'
  return isApp(value) ? 'tsgi' : undefined
}

/**
 * The TSGI app serving `value` in its shape. The bridges load only when needed: a TSGI app's CGI script
 * never loads node:http.
 */
export async function adapt(value: unknown, shape: Shape, mount: MountOptions = {}): Promise<App> {
  if (shape === 'fetch') {
    const { fromFetch } = await import('./fetch.js')
    return fromFetch(value as Parameters<typeof fromFetch>[0], mount)
  }
  if (shape === 'node') {
    const { fromNode } = await import('./node.js')
    return fromNode(value as Parameters<typeof fromNode>[0], mount)
  }
  return value as App
}

/** Parses --shape. */
export function isShape(value: string): value is Shape {
  return value === 'tsgi' || value === 'fetch' || value === 'node'
}

function hasMethod(value: unknown, name: string): boolean {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as Record<string, unknown>)[name] === 'function'
  )
}
