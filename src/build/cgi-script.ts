// `tsgi build`: an app module (.ts or .js, in an ESM or a CommonJS project) becomes one executable CGI
// script: a single esbuild bundle with a node shebang, mode 0755, loading nothing else at run time, the
// fastest form Node can start (docs/performance.md). What would fail silently under a web server fails here.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Shape } from '../bridges/shape.js'
import type { MountOptions } from '../bridges/url.js'
import type { TsgiError } from '../errors.js'
import {
  type Esbuild,
  buildError as errorOf,
  findEsbuild,
  formatMessage,
  runEsbuild,
  runEsbuildAsync,
} from './esbuild.js'

export interface BuildOptions {
  /** The app module. */
  app: string
  /** The script to write (its directory is created). */
  out: string
  /** The export holding the app; default `default`. */
  exportName?: string
  /** Base of relative paths; default process.cwd(). */
  cwd?: string
  /** The command line that builds with `--export NAME`, for the hint of a missing export. */
  withExport?: (name: string) => string
  /** What kind of app it is; default: told at run time by what the export looks like. */
  shape?: Shape
  /** For Fetch and Node apps: hand them the path below SCRIPT_NAME. */
  mount?: MountOptions
  /** The node the script runs with: an absolute path, for a node not on the web server's PATH (nvm). */
  node?: string
  /** Stack traces of the app's errors point at its sources (an inline source map; a larger file). */
  sourcemap?: boolean
}

export interface BuildResult {
  out: string
  bytes: number
  /** `cjs`, the fastest to start; `esm` when the script lands in a `"type": "module"` package. */
  format: 'cjs' | 'esm'
  /** What the user should know (the ESM case, esbuild warnings). */
  notes: string[]
}

/** Builds the CGI script; every failure is a TsgiError ERR_BUILD saying what to do. */
export async function buildCgiScript(options: BuildOptions): Promise<BuildResult> {
  const cwd = options.cwd ?? process.cwd()
  const app = resolve(cwd, options.app)
  const out = resolve(cwd, options.out)
  const exportName = options.exportName ?? 'default'
  if (!existsSync(app) || !statSync(app).isFile()) throw buildError(`app module not found: ${app}`)
  const esbuild = findEsbuild(app)?.esbuild
  if (esbuild === undefined)
    throw buildError('tsgi build bundles with esbuild, which is not installed: npm install --save-dev esbuild')
  checkExport(esbuild, { app, exportName, label: options.app, cwd }, options.withExport)
  const format = moduleScope(out) === 'module' && !out.endsWith('.cjs') ? 'esm' : 'cjs'
  const notes: string[] = []
  if (format === 'esm') {
    const why = `${relative(cwd, out)} is inside a package whose package.json says "type": "module"`
    notes.push(
      `${why}, so Node runs it as an ES module (built as one; an ES module starts about 15% slower than CommonJS). For the fastest ` +
        `start, put {"type": "commonjs"} in ${join(relative(cwd, dirname(out)) || '.', 'package.json')}.`,
    )
  }
  const run = { shape: options.shape, mount: options.mount }
  const shebang = shebangLine(options, notes)
  const entry = { app, out, exportName, label: options.app, cwd, run, shebang, sourcemap: options.sourcemap === true }
  const { code, warnings } = await bundleApp(esbuild, entry, format)
  notes.push(...warnings)
  writeScript(out, code)
  return { out, bytes: code.byteLength, format, notes }
}

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
  throw errorOf(who, `${label} has ${what} (${has})${hint}`)
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
  sourcemap?: boolean
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
        ...(sourcemap === true ? { sourcemap: 'inline' as const, sourcesContent: false } : {}),
        ...(entry.typescript === true ? { plugins: [typescriptEntry(app)] } : {}),
      }),
    entry.absolutePaths === true ? cwd : undefined,
  )
  const inputs = Object.keys(result.metafile.inputs)
    .filter((input) => input !== ENTRY_NAME && input !== '<stdin>')
    .map((input) => resolve(cwd, input))
  return { code: result.outputFiles[0]!.contents, warnings: result.warnings.map(formatMessage), inputs }
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

/**
 * `#!/usr/bin/env node`, or the node given; with source maps, node is told to use them. A web server runs
 * CGI scripts with its own PATH: a node outside it (nvm, /opt) needs its absolute path here.
 */
function shebangLine(options: BuildOptions, notes: string[]): string {
  const flags = options.sourcemap === true ? ' --enable-source-maps' : ''
  if (options.node === undefined) return flags === '' ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node${flags}`
  if (!options.node.startsWith('/'))
    throw buildError(`--node must be an absolute path, got ${JSON.stringify(options.node)}`)
  if (!existsSync(options.node))
    notes.push(`${options.node} does not exist on this machine; the script will run with it`)
  return `#!${options.node}${flags}`
}

/** The CGI adapter module of this tsgi: the built `.js`, or the `.ts` source in a checkout run through tsx. */
function cgiModule(): string {
  const here = fileURLToPath(import.meta.url)
  const ext = here.endsWith('.ts') ? '.ts' : '.js'
  return join(dirname(here), '..', 'gateways', 'cgi', `run${ext}`)
}

/** `module` or `commonjs`, as Node decides for a file at `path` without a .mjs/.cjs extension. */
function moduleScope(path: string): 'module' | 'commonjs' {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest)) {
      try {
        return (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type === 'module'
          ? 'module'
          : 'commonjs'
      } catch {
        return 'commonjs'
      }
    }
    if (dirname(dir) === dir) return 'commonjs'
  }
}

/** Write, mark executable, rename: a web server running the script meanwhile never sees half a file. */
function writeScript(out: string, code: Uint8Array): void {
  const temp = `${out}.${process.pid}.tmp`
  try {
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(temp, code, { mode: 0o755 })
    chmodSync(temp, 0o755)
    renameSync(temp, out)
  } catch (error) {
    throw buildError(`cannot write ${out}: ${error instanceof Error ? error.message : String(error)}`)
  }
}

function buildError(message: string): TsgiError {
  return errorOf('tsgi build', message)
}
