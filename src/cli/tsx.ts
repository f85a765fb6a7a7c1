// Finds tsx's `tsImport`, which loads a TypeScript module on Node 20 (no type stripping there): from
// tsgi's own dependencies, else from the app's project. Both places are optional: a clear error says how.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { TsgiError } from '../errors.js'

export type TsImport = (specifier: string, parent: string) => Promise<Record<string, unknown>>

/** tsx's ESM `tsImport` (its CommonJS twin cannot load once tsx's hooks are registered). */
export async function findTsImport(file: string): Promise<TsImport> {
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
