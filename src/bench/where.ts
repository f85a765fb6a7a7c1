// Where tsgi's own files are, from the source checkout (run through tsx) or the built package alike.
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = fileURLToPath(import.meta.url)

/** The package's root: the directory of its package.json. */
export function packageRoot(): string {
  return resolve(dirname(here), '..', '..')
}

/** True when this code runs from src/ (through tsx) rather than dist/. */
export function fromSource(): boolean {
  return here.endsWith('.ts')
}

/** A module of this tsgi by its path below src/ without extension, as a file URL (`.ts` or `.js`). */
export function sourceModule(path: string): string {
  return pathToFileURL(join(dirname(here), '..', `${path}${fromSource() ? '.ts' : '.js'}`)).href
}

/** bin/tsgi.js, the `tsgi` command. */
export function tsgiBin(): string {
  return join(packageRoot(), 'bin', 'tsgi.js')
}

/** The default app: the hello example shipped with the package. */
export function helloApp(): string {
  return join(packageRoot(), 'examples', 'hello.ts')
}
