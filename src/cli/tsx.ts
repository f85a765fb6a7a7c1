// Loads a TypeScript module: natively on Bun and Deno, else through tsx (Node 20 cannot strip types), found
// in tsgi's own dependencies or else in the app's project; a clear error says how to install it. A module
// Node would take as CommonJS goes through tsx's require, ESM through its tsImport: each keeps the stack
// traces pointing at the file.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { TsgiError } from '../errors.js'

type Exports = Record<string, unknown>
type TsImport = (specifier: string, parent: string) => Promise<Exports>
type TsRequire = (id: string, parent: string) => unknown

/** The module's namespace as an ES import would give it: a CommonJS module's exports are its default. */
export async function importTypeScript(file: string): Promise<Exports> {
  const url = pathToFileURL(file).href
  if (stripsTypes()) return (await import(url)) as Exports
  if (isCommonJs(file)) {
    const tsRequire = await findApi<TsRequire>(file, './cjs/api', 'require')
    return { default: tsRequire(file, url) }
  }
  const tsImport = await findApi<TsImport>(file, './esm/api', 'tsImport')
  return tsImport(url, import.meta.url)
}

/** Bun and Deno run TypeScript themselves (tsx's loader hooks do not even load there). */
function stripsTypes(): boolean {
  const versions = process.versions as Record<string, string | undefined>
  return versions.bun !== undefined || versions.deno !== undefined
}

/**
 * Whether Node would run `file` as CommonJS: .cts, or .ts/.tsx under a package.json without "type":
 * "module". tsx's ESM path would load such a file from a data: URL, and every stack frame of the app would
 * then be that URL instead of file:line:column.
 */
function isCommonJs(file: string): boolean {
  const ext = extname(file)
  if (ext === '.cts' || ext === '.mts') return ext === '.cts'
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type !== 'module'
      } catch {
        return true // an unreadable package.json: Node's default
      }
    }
    if (dirname(dir) === dir) return true
  }
}

/** tsx's `name` function from its ESM entry `subpath` (its CommonJS twins do not load once hooks are set). */
async function findApi<T>(file: string, subpath: './cjs/api' | './esm/api', name: string): Promise<T> {
  const candidates = [(): Promise<unknown> => import(`tsx/${subpath.slice(2)}`), () => importFrom(file, 'tsx', subpath)]
  for (const load of candidates) {
    try {
      const api = (await load()) as Record<string, unknown>
      if (typeof api[name] === 'function') return api[name] as T
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
