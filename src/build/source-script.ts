// A TypeScript CGI script run from its source, when bin/tsgi-cgi.cjs found no valid cache entry: reuse the entry
// if only stats changed, else compile it as `tsgi build` bundles (the CGI runner and the app) into the cache, or
// run it from memory when the cache cannot be used (one line on stderr says why and how to fix it).
import { readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Shape } from '../bridges/shape.js'
import { isTsgiError } from '../errors.js'
import { type Bundle, bundleApp, checkExport, hasScriptExtension } from './bundle.js'
import { openCacheDir, type Place, type Refusal, revalidate, writeEntry } from './cache.js'
import { type FoundEsbuild, findEsbuild } from './esbuild.js'

/** What the app is compiled with (part of the entry's key). */
export interface SourceOptions {
  exportName?: string
  shape?: Shape
  stripScriptName?: boolean
}

/** What bin/tsgi-cgi.cjs hands over: the script, where the cache is, the entry's name and key, why it missed. */
export interface CompileRequest {
  /** The script, absolute. */
  file: string
  options: SourceOptions
  place: Place
  name: string
  key: string
  reason: string
  /** The command line with `--export NAME`, for the hint of a missing export. */
  withExport?: (name: string) => string
}

/**
 * A bundle in the cache (its source map beside it, `.map`), or one to run from memory; or an error for stderr
 * (the caller answers 500), `missing` when esbuild is not installed.
 */
export type Compiled = { bundle: string } | { code: string; map: string } | { error: string; missing?: 'esbuild' }

const debug = process.env.TSGI_CACHE_DEBUG === '1'

export async function compileSource(request: CompileRequest): Promise<Compiled> {
  if (!isFile(request.file)) return { error: `tsgi-cgi: no such script: ${request.file}` }
  const startedNs = BigInt(Date.now()) * 1_000_000n
  const cache = openCacheDir(request.place)
  if ('problem' in cache) refuse(request, cache)
  else {
    const bundle = revalidate(cache.dir, request.name, request.key)
    if (bundle !== undefined) {
      note(request, `its inputs have the content it was compiled from: ${bundle}`)
      return { bundle }
    }
  }
  const found = findEsbuild(request.file)
  if (found === undefined) {
    const how = 'npm install --save-dev esbuild (or compile the script with tsgi build)'
    const error = `tsgi-cgi: ${request.file} is TypeScript, compiled with esbuild, which is not installed: ${how}`
    return { error, missing: 'esbuild' }
  }
  const bundle = await compile(found, request)
  if ('error' in bundle) return bundle // not cached: the next request tries again
  const kept = 'problem' in cache ? undefined : keep(cache.dir, request, found, bundle, startedNs)
  if (kept !== undefined) return kept
  note(request, `compiled in ${elapsed(startedNs)} ms, run from memory`)
  return { code: new TextDecoder().decode(bundle.code), map: bundle.map! }
}

/** Writes the entry; undefined when it is not kept (an input changed meanwhile, the directory refused the write). */
function keep(
  dir: string,
  request: CompileRequest,
  found: FoundEsbuild,
  bundle: Bundle,
  startedNs: bigint,
): Compiled | undefined {
  const { name, key, file } = request
  const inputs = [...bundle.inputs, found.manifest, ...projectFiles(file), ...compilerFiles()]
  try {
    const entry = { name, key, esbuild: found.version, code: bundle.code, map: bundle.map!, inputs }
    const path = writeEntry(dir, entry, startedNs)
    if (path !== undefined) note(request, `compiled in ${elapsed(startedNs)} ms: ${path}`)
    else note(request, 'not kept: an input changed while it compiled')
    return path === undefined ? undefined : { bundle: path }
  } catch (error) {
    refuse(request, { dir, problem: `cannot be written (${(error as { code?: string }).code ?? error})` })
    return undefined
  }
}

function elapsed(startedNs: bigint): string {
  return String((BigInt(Date.now()) * 1_000_000n - startedNs) / 1_000_000n)
}

/** `tsgi build`'s bundle of the script, as a module: the export checked first, failures with absolute paths. */
async function compile(
  { esbuild }: FoundEsbuild,
  { file, options, withExport }: CompileRequest,
): Promise<Bundle | { error: string }> {
  const entry = {
    app: file,
    exportName: options.exportName ?? 'default',
    label: file,
    cwd: dirname(file),
    run: { shape: options.shape, mount: { stripScriptName: options.stripScriptName === true } },
    out: `${file}.bundle.cjs`, // not written: the source map's paths are relative to it
    sourcemap: 'external' as const,
    typescript: !hasScriptExtension(file),
    who: 'tsgi-cgi',
    absolutePaths: true,
  }
  const hint = withExport ?? ((name: string) => `start ${file} with #!/usr/bin/env -S tsgi-cgi --export ${name}`)
  try {
    checkExport(esbuild, entry, hint, 'tsgi-cgi')
    return await bundleApp(esbuild, entry, 'cjs')
  } catch (error) {
    if (isTsgiError(error, 'ERR_BUILD')) return { error: error.message }
    throw error
  }
}

/**
 * The nearest tsconfig.json (with every file it `extends`) and package.json above the script: esbuild
 * reads them (decorators, JSX, paths) but its metafile does not list them.
 */
function projectFiles(file: string): string[] {
  const found = new Map<string, string>()
  for (let dir = dirname(file); found.size < 2; dir = dirname(dir)) {
    for (const name of ['tsconfig.json', 'package.json']) {
      const path = join(dir, name)
      if (!found.has(name) && isFile(path)) found.set(name, path)
    }
    if (dirname(dir) === dir) break
  }
  const tsconfig = found.get('tsconfig.json')
  return [...found.values(), ...(tsconfig === undefined ? [] : extendsChain(tsconfig, new Set([tsconfig])))]
}

/** The files a tsconfig `extends`, transitively: a string or an array of them (TypeScript 5). */
function extendsChain(path: string, seen: Set<string>): string[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const field = /"extends"\s*:\s*(\[[^\]]*\]|"[^"]*")/.exec(text)?.[1] ?? ''
  const out: string[] = []
  for (const [, spec] of field.matchAll(/"([^"]*)"/g)) {
    const next = resolveExtends(spec!, dirname(path))
    if (next === undefined || seen.has(next) || seen.size > 32) continue
    seen.add(next)
    out.push(next, ...extendsChain(next, seen))
  }
  return out
}

/** A relative or absolute path (`.json` optional), or a package's tsconfig as TypeScript resolves it. */
function resolveExtends(spec: string, dir: string): string | undefined {
  if (spec.startsWith('.') || isAbsolute(spec)) {
    const path = resolve(dir, spec)
    return [path, `${path}.json`].find(isFile)
  }
  const require = createRequire(join(dir, 'tsconfig.json'))
  for (const candidate of [spec, `${spec}/tsconfig.json`]) {
    try {
      return require.resolve(candidate)
    } catch {}
  }
  return undefined
}

/** This compiler and bin/tsgi-cgi.cjs: a tsgi that changes them (a checkout, an upgrade) recompiles. */
function compilerFiles(): string[] {
  const here = dirname(fileURLToPath(import.meta.url))
  const ext = extname(fileURLToPath(import.meta.url))
  const modules = ['source-script', 'bundle', 'cache', 'esbuild'].map((name) => join(here, `${name}${ext}`))
  return [...modules.filter(isFile), join(here, '..', '..', 'bin', 'tsgi-cgi.cjs')]
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** The one line a web server's error log gets when the cache is not used (S-24): where, why, how to fix it. */
function refuse({ file }: CompileRequest, { dir, problem }: Refusal): void {
  const uid = process.geteuid!()
  const own = problem.includes('writable by group') ? `chmod go-w ${dir}, or set` : 'set'
  process.stderr.write(
    `tsgi-cgi: not using the compile cache ${dir}: it ${problem}; compiling ${file} in memory on every request ` +
      `(slower). To fix: ${own} TSGI_CACHE_DIR to a directory of uid ${uid}'s own (mode 0700)\n`,
  )
}

/** TSGI_CACHE_DEBUG=1: one line per request saying what the cache did. */
function note({ file, reason }: CompileRequest, what: string): void {
  if (debug) process.stderr.write(`tsgi-cgi: cache miss for ${file} (${reason}); ${what}\n`)
}
