// `tsgi build`: an app module (.ts or .js, in an ESM or a CommonJS project) becomes one executable CGI
// script: a single esbuild bundle with a node shebang, mode 0755, loading nothing else at run time, the
// fastest form Node can start (docs/performance.md). What would fail silently under a web server fails here.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Shape } from '../bridges/shape.js'
import type { MountOptions } from '../bridges/url.js'
import { TsgiError } from '../errors.js'

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

type Esbuild = typeof import('esbuild')

/** Builds the CGI script; every failure is a TsgiError ERR_BUILD saying what to do. */
export async function buildCgiScript(options: BuildOptions): Promise<BuildResult> {
  const cwd = options.cwd ?? process.cwd()
  const app = resolve(cwd, options.app)
  const out = resolve(cwd, options.out)
  const exportName = options.exportName ?? 'default'
  if (!existsSync(app) || !statSync(app).isFile()) throw buildError(`app module not found: ${app}`)
  const esbuild = await findEsbuild(app)
  checkExport(esbuild, app, { exportName, label: options.app, cwd }, options.withExport)
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
  const code = await bundle(esbuild, entry, format, notes)
  writeScript(out, code)
  return { out, bytes: code.byteLength, format, notes }
}

/** esbuild from tsgi's own dependencies, else from the app's project (it is an optional peer). */
async function findEsbuild(app: string): Promise<Esbuild> {
  try {
    return (await import('esbuild')) as Esbuild
  } catch {
    try {
      const path = createRequire(app).resolve('esbuild')
      return (await import(pathToFileURL(path).href)) as Esbuild
    } catch {
      throw buildError('tsgi build bundles with esbuild, which is not installed: npm install --save-dev esbuild')
    }
  }
}

/** A missing export is found without running the app (esbuild's metafile lists an ES module's exports). */
function checkExport(
  esbuild: Esbuild,
  app: string,
  { exportName, label, cwd }: Pick<Entry, 'exportName' | 'label' | 'cwd'>,
  withExport: BuildOptions['withExport'],
): void {
  const scan = runEsbuild(() =>
    esbuild.buildSync({
      absWorkingDir: cwd,
      entryPoints: [app],
      bundle: false,
      format: 'esm',
      platform: 'node',
      write: false,
      metafile: true,
      logLevel: 'silent',
    }),
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
  throw buildError(`${label} has ${what} (${has})${hint}`)
}

interface Entry {
  app: string
  /** Where the script goes: source map paths are relative to it. */
  out: string
  exportName: string
  label: string
  cwd: string
  run: { shape?: Shape; mount?: MountOptions }
  shebang: string
  sourcemap: boolean
}

async function bundle(
  esbuild: Esbuild,
  { app, out, exportName, label, cwd, run, shebang, sourcemap }: Entry,
  format: 'cjs' | 'esm',
  notes: string[],
): Promise<Uint8Array> {
  // The CGI adapter is imported first: it scrubs HTTP_PROXY before the app's modules run (httpoxy, S-01).
  const entry =
    `import { runCgiExport } from ${JSON.stringify(cgiModule())}\n` +
    `import * as app from ${JSON.stringify(app)}\n` +
    `void runCgiExport(app, ${JSON.stringify(exportName)}, ${JSON.stringify(basename(label))}, ${JSON.stringify(run)})\n`
  const esm =
    "import { createRequire as __tsgiRequire } from 'node:module'; const require = __tsgiRequire(import.meta.url);"
  const result = await runEsbuildAsync(() =>
    esbuild.build({
      absWorkingDir: cwd,
      outfile: out, // not written (write: false): it anchors the source map's paths
      stdin: { contents: entry, resolveDir: dirname(app), sourcefile: 'tsgi-cgi-entry.js', loader: 'js' },
      bundle: true,
      platform: 'node',
      format,
      target: `node${process.versions.node.split('.')[0]}`,
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
      keepNames: true,
      banner: { js: format === 'esm' ? `${shebang}\n${esm}` : shebang },
      ...(sourcemap ? { sourcemap: 'inline' as const, sourcesContent: false } : {}),
    }),
  )
  for (const warning of result.warnings) notes.push(formatMessage(warning))
  return result.outputFiles[0]!.contents
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

interface EsbuildMessage {
  text: string
  location: { file: string; line: number; column: number; lineText: string } | null
}

/** `app.ts:3:10: Could not resolve "x"` and the offending line, as a compiler prints it. */
function formatMessage({ text, location }: EsbuildMessage): string {
  if (location === null) return text
  const { file, line, column, lineText } = location
  return `${file}:${line}:${column + 1}: ${text}\n  ${line} | ${lineText}\n  ${' '.repeat(String(line).length)} | ${' '.repeat(column)}^`
}

function fromEsbuild(error: unknown): TsgiError {
  const errors = (error as { errors?: EsbuildMessage[] }).errors
  if (!Array.isArray(errors)) return buildError(error instanceof Error ? error.message : String(error))
  return buildError(`the app does not bundle:\n${errors.map(formatMessage).join('\n')}`)
}

function runEsbuild<T>(run: () => T): T {
  try {
    return run()
  } catch (error) {
    throw fromEsbuild(error)
  }
}

async function runEsbuildAsync<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw fromEsbuild(error)
  }
}

function buildError(message: string): TsgiError {
  return new TsgiError('ERR_BUILD', `tsgi build: ${message}`)
}
