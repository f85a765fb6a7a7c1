// Loads the app a CLI command runs: a module path whose default export (or `--export NAME`) is the App.
// TypeScript loads through tsx (Node 20 cannot strip types), in an ESM or a CommonJS project alike.
import { statSync } from 'node:fs'
import { extname, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../app.js'
import { adapt, SHAPES_HELP, type Shape, shapeOf } from '../bridges/shape.js'
import type { MountOptions } from '../bridges/url.js'
import { moduleExports } from '../core/call.js'
import { TsgiError } from '../errors.js'
import { describeLoadFailure } from './load-errors.js'
import { importTypeScript } from './tsx.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

export interface LoadOptions {
  /** The export holding the app; default `default`. */
  exportName?: string
  /** Base for a relative path; default process.cwd(). */
  cwd?: string
  /** The command line that loads the same module with `--export NAME`, for hints (default: none). */
  withExport?: (name: string) => string
  /** What kind of app it is (--shape); default: told by what the export looks like. */
  shape?: Shape
  /** For Fetch and Node apps: hand them the path below SCRIPT_NAME (--strip-script-name). */
  mount?: MountOptions
}

type Exports = Record<string, unknown>

/**
 * Imports `path` and returns its app export as a TSGI app (a Fetch or Node app through its bridge). Every
 * failure is a TsgiError ERR_LOAD_APP saying what to do.
 */
export async function loadApp(path: string, options: LoadOptions = {}): Promise<App> {
  const file = resolve(options.cwd ?? process.cwd(), path)
  if (!isFile(file)) throw new TsgiError('ERR_LOAD_APP', `tsgi: app module not found: ${file}`)
  const { value, shape } = pickApp(await importFile(file), path, options)
  return adapt(value, shape, options.mount)
}

/** The module's exports; a CommonJS module compiled from `export default` is unwrapped (moduleExports). */
async function importFile(file: string): Promise<Exports> {
  let namespace: Exports
  try {
    namespace = TYPESCRIPT.has(extname(file))
      ? await importTypeScript(file)
      : ((await import(pathToFileURL(file).href)) as Exports)
  } catch (error) {
    if (error instanceof TsgiError && error.code === 'ERR_LOAD_APP') throw error // tsx is missing
    throw new TsgiError('ERR_LOAD_APP', await describeLoadFailure(file, error), { cause: error })
  }
  return moduleExports(namespace)
}

function pickApp(exports: Exports, path: string, options: LoadOptions): { value: unknown; shape: Shape } {
  const name = options.exportName ?? 'default'
  const what = name === 'default' ? `the default export of ${path}` : `export "${name}" of ${path}`
  const value = exports[name]
  const shape = shapeOf(value, options.shape)
  if (shape !== undefined) return { value, shape }
  const names = Object.keys(exports).filter((key) => exports[key] !== undefined)
  const why =
    value === undefined
      ? `${path} has no ${name === 'default' ? 'default export' : `export "${name}"`}`
      : `${what} is not ${options.shape === undefined ? 'an app' : `a ${options.shape} app`}: it is ${describe(value)}`
  const lines = [`tsgi: ${why}.`]
  lines.push(names.length === 0 ? `${path} exports nothing.` : `Its exports: ${names.join(', ')}.`)
  const apps = names.filter((key) => key !== name && shapeOf(exports[key], options.shape) !== undefined)
  if (apps.length > 0 && options.withExport !== undefined) {
    lines.push(`To serve ${apps.length === 1 ? 'it' : 'one of them'}: ${options.withExport(apps[0]!)}`)
  } else if (apps.length > 0) {
    lines.push(`Pick the app with --export ${apps[0]}.`)
  }
  lines.push(`${SHAPES_HELP[0]!.toUpperCase()}${SHAPES_HELP.slice(1)}.`)
  throw new TsgiError('ERR_LOAD_APP', lines.join('\n'))
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') {
    const keys = Object.keys(value as object)
    const kind = (value as object).constructor?.name
    const prefix = kind && kind !== 'Object' ? `a ${kind} object` : 'an object'
    return keys.length === 0
      ? `${prefix} without a call() method`
      : `${prefix} with keys ${keys.slice(0, 8).join(', ')}`
  }
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
