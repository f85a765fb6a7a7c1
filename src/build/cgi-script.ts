// `tsgi build`: an app module (.ts or .js, in an ESM or a CommonJS project) becomes one executable CGI
// script: a single esbuild bundle with a node shebang, mode 0755, loading nothing else at run time, the
// fastest form Node can start (docs/performance.md). What would fail silently under a web server fails here.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { Shape } from '../bridges/shape.js'
import type { MountOptions } from '../bridges/url.js'
import type { TsgiError } from '../errors.js'
import { bundleApp, checkExport } from './bundle.js'
import { buildError as errorOf, findEsbuild } from './esbuild.js'

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
  /** The runtime the script's shebang names; default node. Bun and Deno are found on the web server's PATH. */
  runtime?: Runtime
  /** Stack traces of the app's errors point at its sources (an inline source map; a larger file). */
  sourcemap?: boolean
}

export type Runtime = 'node' | 'bun' | 'deno'

/** The shebang's command for each runtime (Deno: a script run with Node's permissions, never prompting). */
export const INTERPRETER: Record<Exclude<Runtime, 'node'>, string> = {
  bun: '#!/usr/bin/env bun',
  deno: '#!/usr/bin/env -S deno run -A --no-prompt --quiet',
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
  const runtime = options.runtime ?? 'node'
  if (runtime !== 'node' && options.node !== undefined) throw buildError('--node is for --runtime node')
  // Deno runs ES modules only (CommonJS just from .cjs files); Bun starts either form as fast.
  const format = runtime === 'deno' || (moduleScope(out) === 'module' && !out.endsWith('.cjs')) ? 'esm' : 'cjs'
  const notes: string[] = []
  if (format === 'esm' && runtime === 'node') {
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
 * `#!/usr/bin/env node`, or the node given; with source maps, node is told to use them. A web server runs
 * CGI scripts with its own PATH: a node outside it (nvm, /opt) needs its absolute path here.
 */
function shebangLine(options: BuildOptions, notes: string[]): string {
  if (options.runtime === 'bun' || options.runtime === 'deno') return INTERPRETER[options.runtime]
  const flags = options.sourcemap === true ? ' --enable-source-maps' : ''
  if (options.node === undefined) return flags === '' ? '#!/usr/bin/env node' : `#!/usr/bin/env -S node${flags}`
  if (!options.node.startsWith('/'))
    throw buildError(`--node must be an absolute path, got ${JSON.stringify(options.node)}`)
  if (!existsSync(options.node))
    notes.push(`${options.node} does not exist on this machine; the script will run with it`)
  return `#!${options.node}${flags}`
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
