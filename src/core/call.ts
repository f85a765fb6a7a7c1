// How to call an App (SPEC §2): a function, a class whose instances are the body, or an object
// with a `call` method. Gateways and middleware call apps only through callApp.
import type { App, AppClass, AppFunction, Body, Environ, StartResponse } from '../app.js'
import { TsgiError } from '../errors.js'

/** Calls `app` in whichever of its three forms it comes, and returns its body (maybe a promise). */
export function callApp(app: App, environ: Environ, startResponse: StartResponse): Body | Promise<Body> {
  if (typeof app === 'function') {
    return isClass(app) ? new (app as AppClass)(environ, startResponse) : (app as AppFunction)(environ, startResponse)
  }
  if (app !== null && typeof app === 'object' && typeof app.call === 'function') {
    return app.call(environ, startResponse)
  }
  throw new TsgiError('ERR_BAD_APP', `tsgi: not an application: ${describe(app)}`)
}

/** True for something callApp accepts. */
export function isApp(value: unknown): value is App {
  if (typeof value === 'function') return true
  return value !== null && typeof value === 'object' && typeof (value as { call?: unknown }).call === 'function'
}

/**
 * The exports of an imported module. A CommonJS module seen from ESM has its `module.exports` as
 * `default`; when that object says it was compiled from an ES module (`__esModule`, as TypeScript and
 * esbuild write it: a `.ts` app in a project without `"type": "module"`), its own keys are the exports.
 */
export function moduleExports(namespace: Record<string, unknown>): Record<string, unknown> {
  const inner = namespace.default as { __esModule?: unknown } | null | undefined
  if (inner !== null && typeof inner === 'object' && inner.__esModule === true) return inner as Record<string, unknown>
  return namespace
}

// A class (ES `class` syntax, or a constructor whose instances are iterable) must be called with `new`.
const classCache = new WeakMap<object, boolean>()
function isClass(fn: AppFunction | AppClass): boolean {
  let known = classCache.get(fn)
  if (known === undefined) {
    const proto = (fn as { prototype?: object }).prototype
    // Generator functions have an iterable prototype too, but are called, not constructed.
    const tag = (fn as { [Symbol.toStringTag]?: string })[Symbol.toStringTag]
    const generator = tag === 'GeneratorFunction' || tag === 'AsyncGeneratorFunction'
    known =
      Function.prototype.toString.call(fn).startsWith('class') ||
      (!generator && proto !== undefined && (Symbol.iterator in proto || Symbol.asyncIterator in proto))
    classCache.set(fn, known)
  }
  return known
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `object without a call() method`
  return typeof value
}
