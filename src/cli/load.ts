// Loads the app a CLI command runs: a module path whose default export (or `--export NAME`) is the App.
// TypeScript files load through tsx's programmatic API, since Node 20 cannot strip types itself.
import { readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { App } from '../app.js'
import { isApp } from '../core/call.js'
import { TsgiError } from '../errors.js'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

export interface LoadOptions {
  /** The export holding the app; default `default`. */
  exportName?: string
  /** Base for a relative path; default process.cwd(). */
  cwd?: string
}

type TsImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>

/** Imports `path` and returns its app export. Every failure is a TsgiError ERR_LOAD_APP. */
export async function loadApp(path: string, options: LoadOptions = {}): Promise<App> {
  const file = resolve(options.cwd ?? process.cwd(), path)
  if (!isFile(file)) throw new TsgiError('ERR_LOAD_APP', `tsgi: app module not found: ${file}`)
  const module = await importFile(file)
  const name = options.exportName ?? 'default'
  if (!(name in module) || module[name] === undefined) {
    const names = Object.keys(module).filter((key) => module[key] !== undefined)
    const has = names.length === 0 ? 'it has no exports' : `its exports: ${names.join(', ')}`
    throw new TsgiError(
      'ERR_LOAD_APP',
      `tsgi: ${path} has no ${name === 'default' ? 'default export' : `export "${name}"`} (${has})`,
    )
  }
  const app = module[name]
  if (!isApp(app)) {
    throw new TsgiError(
      'ERR_LOAD_APP',
      `tsgi: ${name === 'default' ? 'the default export' : `export "${name}"`} of ${path} is not an app ` +
        `(a function, a class, or an object with a call() method), got ${describe(app)}`,
    )
  }
  return app
}

async function importFile(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(file).href
  const tsImport = TYPESCRIPT.has(extname(file)) ? await findTsx(file) : undefined
  try {
    return tsImport ? await tsImport(url, import.meta.url) : ((await import(url)) as Record<string, unknown>)
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error)
    throw new TsgiError('ERR_LOAD_APP', `tsgi: cannot load ${file}: ${why}`, { cause: error })
  }
}

/**
 * tsx's `tsImport`: resolved from tsgi (tsx hoisted next to it, or tsgi's own), else from the app's
 * directory (a global tsgi serving a project that has tsx). ESM build only: its CommonJS twin cannot
 * load once tsx's hooks are registered.
 */
async function findTsx(file: string): Promise<TsImport> {
  const candidates = [(): Promise<unknown> => import('tsx/esm/api'), () => importFrom(file, 'tsx', './esm/api')]
  for (const load of candidates) {
    try {
      const api = (await load()) as { tsImport?: TsImport }
      if (typeof api.tsImport === 'function') return api.tsImport
    } catch {
      // Not installed there: try the next place.
    }
  }
  throw new TsgiError(
    'ERR_LOAD_APP',
    `tsgi: ${file} is TypeScript, which needs tsx to load: npm install --save-dev tsx (or compile the app to .js)`,
  )
}

/** Imports the ESM entry `subpath` of package `name` as resolved from `from`'s directory. */
async function importFrom(from: string, name: string, subpath: string): Promise<unknown> {
  const manifest = createRequire(from).resolve(`${name}/package.json`)
  const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports?: Record<string, unknown> }).exports
  const entry = (exports?.[subpath] as { import?: { default?: unknown } } | undefined)?.import?.default
  if (typeof entry !== 'string') throw new Error(`${name} has no ESM export ${subpath}`)
  return import(pathToFileURL(join(dirname(manifest), entry)).href)
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object without a call() method`
  return typeof value === 'string' ? `the string ${JSON.stringify(value)}` : `a ${typeof value}`
}
