// An app and the CGI runner as one esbuild bundle, shared by `tsgi build` (a script that runs itself) and the
// compile cache of `tsgi-cgi` (a module serving a request when called); a missing export is found before.
import { readFileSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Shape } from '../bridges/shape.js'
import type { MountOptions } from '../bridges/url.js'
import { buildError, type Esbuild, formatMessage, runEsbuild, runEsbuildAsync } from './esbuild.js'

/**
 * A missing export is found without running the app (esbuild's metafile lists an ES module's exports).
 * A script without a known extension is read as TypeScript (`typescript`).
 */
export function checkExport(
  esbuild: Esbuild,
  entry: Pick<Entry, 'app' | 'exportName' | 'label' | 'cwd' | 'typescript' | 'absolutePaths'>,
  withExport: ((name: string) => string) | undefined,
  who = 'tsgi build',
): void {
  const { app, exportName, label, cwd, typescript } = entry
  const source = typescript
    ? {
        stdin: {
          contents: readFileSync(app, 'utf8'),
          loader: 'ts' as const,
          sourcefile: label,
          resolveDir: dirname(app),
        },
      }
    : { entryPoints: [app] }
  const scan = runEsbuild(
    who,
    () =>
      esbuild.buildSync({
        absWorkingDir: cwd,
        ...source,
        bundle: false,
        format: 'esm',
        platform: 'node',
        write: false,
        metafile: true,
        logLevel: 'silent',
      }),
    entry.absolutePaths === true ? cwd : undefined,
  )
  const input = Object.values(scan.metafile!.inputs)[0]
  const output = Object.values(scan.metafile!.outputs)[0]
  // A CommonJS module's exports are only known when it runs; the script checks its export then.
  if (input?.format === 'cjs' || output === undefined || output.exports.includes(exportName)) return
  const has = output.exports.length === 0 ? 'it exports nothing' : `its exports: ${output.exports.join(', ')}`
  const what = exportName === 'default' ? 'no default export' : `no export "${exportName}"`
  const first = output.exports[0]
  const hint =
    first === undefined ? '' : withExport ? `; to build it: ${withExport(first)}` : `; pick one with --export ${first}`
  throw buildError(who, `${label} has ${what} (${has})${hint}`)
}

export interface Entry {
  app: string
  /** Where the script goes: source map paths are relative to it. */
  out?: string
  exportName: string
  label: string
  cwd: string
  run: { shape?: Shape; mount?: MountOptions }
  /** The script's first line; none: a module whose default export serves a request (the compile cache). */
  shebang?: string
  /** true: an inline source map (`tsgi build --sourcemap`); `external`: Bundle.map, its sources absolute. */
  sourcemap?: boolean | 'external'
  /** Read the app as TypeScript whatever its extension (a CGI script named `hello`). */
  typescript?: boolean
  /** Who reports a failure (`tsgi build`). */
  who?: string
  /** Report failures with absolute paths (a web server's error log has no working directory). */
  absolutePaths?: boolean
}

/** The name of the generated entry module (stdin) in stack traces, source maps and the metafile. */
const ENTRY_NAME = 'tsgi-cgi-entry.js'

export interface Bundle {
  code: Uint8Array
  /** esbuild's warnings, formatted. */
  warnings: string[]
  /** Every file esbuild read, absolute (its metafile's inputs). */
  inputs: string[]
  /** The source map, with `sourcemap: 'external'`. */
  map?: string
}

/**
 * The app and the CGI runner as one esbuild bundle: with a shebang, a script that serves the request when it
 * runs (`tsgi build`); without, a CommonJS module whose default export, called with runCgi's options, serves
 * it (the compile cache).
 */
export async function bundleApp(esbuild: Esbuild, entry: Entry, format: 'cjs' | 'esm'): Promise<Bundle> {
  const { app, out, cwd, shebang, sourcemap } = entry
  const esm =
    "import { createRequire as __tsgiRequire } from 'node:module'; const require = __tsgiRequire(import.meta.url);"
  const banner = shebang === undefined ? undefined : format === 'esm' ? `${shebang}\n${esm}` : shebang
  const result = await runEsbuildAsync(
    entry.who ?? 'tsgi build',
    () =>
      esbuild.build({
        absWorkingDir: cwd,
        ...(out === undefined ? {} : { outfile: out }), // not written (write: false): it anchors the source map's paths
        stdin: { contents: entryCode(entry), resolveDir: dirname(app), sourcefile: ENTRY_NAME, loader: 'js' },
        bundle: true,
        platform: 'node',
        format,
        target: `node${process.versions.node.split('.')[0]}`,
        write: false,
        metafile: true,
        logLevel: 'silent',
        legalComments: 'none',
        keepNames: true,
        ...(banner === undefined ? {} : { banner: { js: banner } }),
        ...(sourcemap === undefined || sourcemap === false
          ? {}
          : { sourcemap: sourceMapKind(sourcemap), sourcesContent: false }),
        ...(entry.typescript === true ? { plugins: [typescriptEntry(app)] } : {}),
      }),
    entry.absolutePaths === true ? cwd : undefined,
  )
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => input !== ENTRY_NAME && input !== '<stdin>')
    .map((input) => resolve(cwd, input))
  const code = result.outputFiles.find((file) => !file.path.endsWith('.map'))!.contents
  const map = result.outputFiles.find((file) => file.path.endsWith('.map'))?.text
  const warnings = result.warnings.map(formatMessage)
  return { code, warnings, inputs, ...(map === undefined ? {} : { map: absoluteSources(map, dirname(out ?? app)) }) }
}

function sourceMapKind(sourcemap: true | 'external'): 'inline' | 'external' {
  return sourcemap === true ? 'inline' : 'external'
}

/** The map with absolute `sources`: it is read from a cache directory, not from next to the app. */
function absoluteSources(map: string, base: string): string {
  const parsed = JSON.parse(map) as { sources: string[] }
  parsed.sources = parsed.sources.map((source) => resolve(base, source))
  return JSON.stringify(parsed)
}

/** The bundle's entry. The CGI adapter is imported first: it scrubs HTTP_PROXY before the app's modules run (httpoxy, S-01). */
function entryCode({ app, exportName, label, run, shebang }: Entry): string {
  const args = `app, ${JSON.stringify(exportName)}, ${JSON.stringify(basename(label))}`
  return (
    `import { runCgiExport } from ${JSON.stringify(cgiModule())}\n` +
    `import * as app from ${JSON.stringify(app)}\n` +
    (shebang === undefined
      ? `export default (cgi) => runCgiExport(${args}, { ...${JSON.stringify(run)}, cgi })\n`
      : `void runCgiExport(${args}, ${JSON.stringify(run)})\n`)
  )
}

/** Loads `app` as TypeScript whatever its name: esbuild picks a loader by extension, and a CGI script may have none. */
function typescriptEntry(app: string): import('esbuild').Plugin {
  const filter = new RegExp(`^${app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  return {
    name: 'tsgi-typescript-entry',
    setup(build) {
      build.onLoad({ filter }, () => ({ contents: readFileSync(app, 'utf8'), loader: 'ts', resolveDir: dirname(app) }))
    },
  }
}

/** Whether esbuild knows how to read `file` by its extension; a CGI script named `hello` is TypeScript here. */
export function hasScriptExtension(file: string): boolean {
  return ['.ts', '.mts', '.cts', '.tsx', '.js', '.mjs', '.cjs', '.jsx'].includes(extname(file))
}

/** The CGI adapter module of this tsgi: the built `.js`, or the `.ts` source in a checkout run through tsx. */
function cgiModule(): string {
  const here = fileURLToPath(import.meta.url)
  const ext = here.endsWith('.ts') ? '.ts' : '.js'
  return join(dirname(here), '..', 'gateways', 'cgi', `run${ext}`)
}
