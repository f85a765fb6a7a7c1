#!/usr/bin/env node
// `tsgi-cgi [--export NAME] [--shape S] [--strip-script-name] [--nph] SCRIPT`: a CGI script in TypeScript,
// run from its source (its first line: `#!/usr/bin/env tsgi-cgi`) through the compile cache. A cache entry
// whose inputs are unchanged is required at once; anything else goes to src/build/source-script.ts.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

// tsgi's version, part of every entry's key; test/build/cache.test.ts checks it against package.json (reading
// package.json on every request would cost more).
const VERSION = '0.1.0'
const SHAPES = ['tsgi', 'fetch', 'node']
const debug = process.env.TSGI_CACHE_DEBUG === '1'

/**
 * Where the cache is: $TSGI_CACHE_DIR, $XDG_CACHE_HOME/tsgi, $HOME/.cache/tsgi (with the temporary directory
 * as its fallback: a web server's user often has a HOME it cannot write), else $TMPDIR/tsgi-cache-<euid>.
 */
function cachePlace(env) {
  if (env.TSGI_CACHE_DIR) return { dir: path.resolve(env.TSGI_CACHE_DIR), from: 'TSGI_CACHE_DIR' }
  // The XDG Base Directory spec: a relative path is invalid and ignored.
  if (env.XDG_CACHE_HOME?.startsWith('/')) return { dir: path.join(env.XDG_CACHE_HOME, 'tsgi'), from: 'XDG_CACHE_HOME' }
  // os.tmpdir() on POSIX, without loading node:os.
  let tmp = env.TMPDIR || env.TMP || env.TEMP || '/tmp'
  if (tmp.length > 1 && tmp.endsWith('/')) tmp = tmp.slice(0, -1)
  const temporary = { dir: path.join(tmp, `tsgi-cache-${process.geteuid()}`), from: 'the temporary directory' }
  if (!env.HOME?.startsWith('/')) return temporary
  return { dir: path.join(env.HOME, '.cache', 'tsgi'), from: 'HOME', fallback: temporary }
}

/** The entry's key (what it was compiled from and with) and its file name, a hash of the key. */
function entryKey(file, options) {
  const node = process.versions.node.split('.')[0]
  const { exportName = 'default', shape = null, stripScriptName = false } = options
  const key = JSON.stringify([file, VERSION, node, exportName, shape, stripScriptName])
  return { key, name: hash53(key) }
}

/** cyrb53: a fast 53-bit string hash (no node:crypto on the hot path); the entry keeps the key to compare. */
function hash53(text) {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h2 >>> 0).toString(16).padStart(8, '0') + (h1 >>> 0).toString(16).padStart(8, '0')
}

/** Why a cache directory or entry file may not be used (S-24), or undefined. */
function unsafe(stat, kind) {
  if (stat.isSymbolicLink()) return 'is a symbolic link'
  if (kind === 'directory' ? !stat.isDirectory() : !stat.isFile()) return `is not a ${kind}`
  const uid = process.geteuid()
  if (stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this process's uid ${uid}`
  if ((stat.mode & 0o022) !== 0) return `is writable by group or others (mode 0${(stat.mode & 0o777).toString(8)})`
  return undefined
}

/** dev:ino:size:mtimeNs:ctimeNs, or '' for a file that is gone. A write always moves ctime (touch cannot set it). */
function statKey(file) {
  const s = tryStat(fs.statSync, file, { bigint: true })
  return s === undefined ? '' : `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`
}

/** A stat, or undefined for a path that is not there or not reachable (ENOENT, ENOTDIR, EACCES). */
function tryStat(stat, file, options) {
  try {
    return stat(file, options)
  } catch {
    return undefined
  }
}

/** The entry's record, read without following a link, if it is ours and for this key. */
function readRecord(dir, name, key) {
  let fd
  try {
    fd = fs.openSync(path.join(dir, `${name}.json`), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW)
    if (unsafe(fs.fstatSync(fd), 'file') !== undefined) return undefined
    const record = JSON.parse(fs.readFileSync(fd, 'utf8'))
    const wellFormed = Array.isArray(record.inputs) && /^[0-9a-f]{16}-[0-9a-f]{16}\.cjs$/.test(record.bundle)
    return wellFormed && record.key === key ? record : undefined
  } catch {
    return undefined
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** `{ bundle }` for a valid entry; otherwise `{ reason }`, and `{ problem }` for a directory refused (S-24). */
function lookup(place, name, key) {
  const stat = tryStat(fs.lstatSync, place.dir)
  if (stat === undefined) {
    return place.fallback ? lookup(place.fallback, name, key) : { reason: `no cache directory ${place.dir}` }
  }
  const problem = unsafe(stat, 'directory')
  if (problem !== undefined) return { reason: `${place.dir} ${problem}`, problem }
  const record = readRecord(place.dir, name, key)
  if (record === undefined) return { reason: 'no entry' }
  const changed = record.inputs.find(([file, stamp]) => statKey(file) !== stamp)
  if (changed !== undefined) return { reason: `${changed[0]} changed` }
  const bundle = path.join(place.dir, record.bundle)
  const file = tryStat(fs.lstatSync, bundle)
  if (file === undefined || unsafe(file, 'file') !== undefined) return { reason: `${bundle} is missing or not ours` }
  return { bundle }
}

/**
 * Serves one request with the TypeScript CGI script `script`. Resolves to the exit code, or to undefined when
 * esbuild is missing and `runtime.fallback` asks for that instead of a 500 (`tsgi cgi` then uses tsx).
 */
async function runSource(script, options = {}, runtime = {}) {
  const file = path.resolve(script)
  const place = cachePlace(process.env)
  const { key, name } = entryKey(file, options)
  const found = lookup(place, name, key)
  if (found.bundle !== undefined) {
    if (debug) process.stderr.write(`tsgi-cgi: cache hit ${found.bundle}\n`)
    const loaded = load(file, found.bundle)
    if (loaded !== undefined) return serve(loaded, runtime)
  }
  const source = await sourceScript()
  if (source === undefined) return fail('tsgi-cgi: dist/ is missing: run `npm run build` (or install tsx)')
  const result = await source.compileSource({ file, options, place, name, key, reason: found.reason, ...runtime })
  if (result.missing === 'esbuild' && runtime.fallback === true) return undefined
  if (result.error !== undefined) return fail(result.error)
  return serve(load(file, result.bundle, result.bundle === undefined ? result : undefined), runtime)
}

/**
 * The bundle's exports, from the cache file `bundle` or from memory (`compiled`), run as the script itself:
 * its unbundled require() calls and __dirname resolve from the script's directory, never from the cache's
 * (a /tmp cache would let anyone's /tmp/node_modules answer them: S-24). Undefined when a recompile removed
 * the file meanwhile. Its frames in stack traces name the sources (mapStacks).
 */
function load(script, bundle, compiled) {
  const readMap = compiled === undefined ? () => fs.readFileSync(`${bundle}.map`, 'utf8') : () => compiled.map
  mapStacks(script, readMap)
  let code
  try {
    code = compiled === undefined ? fs.readFileSync(bundle, 'utf8') : compiled.code
  } catch {
    return undefined
  }
  try {
    return evaluate(script, code)
  } catch (error) {
    return { error }
  }
}

/** Runs CommonJS code as Node runs a file of it. */
function evaluate(filename, code) {
  const wrapper = require('node:vm').runInThisContext(
    `(function (exports, require, module, __filename, __dirname) {${code}\n})`,
    { filename },
  )
  const module = { exports: {} }
  wrapper(module.exports, require('node:module').createRequire(filename), module, filename, path.dirname(filename))
  return module.exports
}

/** Serves the request with the loaded bundle; an app that threw as it loaded gets a 500 (C-20). */
function serve(loaded, runtime) {
  if (loaded.error !== undefined) return fail(`tsgi-cgi: ${loaded.error?.stack ?? loaded.error}`)
  return loaded.default(cgiOptions(runtime))
}

/**
 * Frames in `filename` name the app's sources, as --enable-source-maps would; the map is read when a stack is
 * first formatted, not at every start (docs/performance.md, "TypeScript CGI from source").
 */
function mapStacks(filename, readMap) {
  let map
  Error.prepareStackTrace = (error, frames) => {
    if (map === undefined) map = sourceMap(readMap)
    let text
    try {
      text = Error.prototype.toString.call(error)
    } catch {
      text = '<error>'
    }
    return text + frames.map((frame) => `\n    at ${mapFrame(frame, filename, map)}`).join('')
  }
}

function sourceMap(readMap) {
  try {
    return new (require('node:module').SourceMap)(JSON.parse(readMap()))
  } catch {
    return null
  }
}

function mapFrame(frame, filename, map) {
  const text = String(frame)
  const [line, column] = [frame.getLineNumber(), frame.getColumnNumber()]
  if (map === null || frame.getFileName() !== filename || line === null) return text
  const { originalSource, originalLine, originalColumn } = map.findEntry(line - 1, column - 1)
  if (originalSource === undefined) return text
  const source = originalSource.startsWith('file:') ? require('node:url').fileURLToPath(originalSource) : originalSource
  return text.replace(`${filename}:${line}:${column}`, `${source}:${originalLine + 1}:${originalColumn + 1}`)
}

function cgiOptions({ scriptPath, command, nph }) {
  return { scriptPath, ...(command === undefined ? {} : { command }), ...(nph === true ? { nph } : {}) }
}

/** src/build/source-script.ts: built in dist/, else the sources through tsx (a checkout, TSGI_FROM_SOURCE=1). */
async function sourceScript() {
  const { pathToFileURL } = require('node:url')
  const root = path.join(__dirname, '..')
  const built = path.join(root, 'dist', 'build', 'source-script.js')
  if (process.env.TSGI_FROM_SOURCE !== '1' && fs.existsSync(built)) return import(pathToFileURL(built).href)
  try {
    const tsx = await import('tsx/esm/api')
    return await tsx.tsImport(pathToFileURL(path.join(root, 'src', 'build', 'source-script.ts')).href, __filename)
  } catch {
    return undefined
  }
}

/**
 * A script that cannot start: a 500 whose body hides the detail, the detail on stderr. The response was
 * delivered, so exit 0, as the CGI adapter does (C-20); run by hand (no REQUEST_METHOD), exit 1.
 */
function fail(detail) {
  process.stderr.write(`${detail}\n`)
  const serving = process.env.REQUEST_METHOD !== undefined
  if (serving) {
    const head = 'Status: 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
    fs.writeSync(1, `${head}Internal Server Error\n`)
  }
  process.exitCode = serving ? 0 : 1
  return process.exitCode
}

/** Options before the script: a shebang line may pass them with `#!/usr/bin/env -S tsgi-cgi --export app`. */
function parseArgs(args) {
  const options = {}
  const runtime = {}
  let i = 0
  for (; i < args.length && args[i].startsWith('--'); i++) {
    const [flag, inline] = args[i].split(/=(.*)/s)
    if (flag === '--strip-script-name') options.stripScriptName = true
    else if (flag === '--nph') runtime.nph = true
    else if (flag === '--export') options.exportName = inline ?? args[++i]
    else if (flag === '--shape' && SHAPES.includes(inline ?? args[i + 1])) options.shape = inline ?? args[++i]
    else return { error: `unknown option or value: ${args.slice(i).join(' ')}` }
  }
  if (args[i] === undefined) return { error: 'no SCRIPT' }
  return { options, runtime: { ...runtime, scriptPath: args[i] }, at: i }
}

function main() {
  const args = process.argv.slice(2)
  const parsed = parseArgs(args)
  if (parsed.error !== undefined) {
    const usage = 'usage: tsgi-cgi [--export NAME] [--shape tsgi|fetch|node] [--strip-script-name] [--nph] SCRIPT'
    return fail(`tsgi-cgi: ${parsed.error}\n${usage}`)
  }
  // The app sees argv as a compiled script's: [node, SCRIPT, ...ISINDEX words] (RFC 3875 §4.4, C-11).
  process.argv.splice(1, parsed.at + 1)
  return runSource(parsed.runtime.scriptPath, parsed.options, parsed.runtime).catch((error) =>
    fail(`tsgi-cgi: internal error: ${error?.stack ?? error}`),
  )
}

module.exports = { runSource, cachePlace, entryKey, VERSION }
if (require.main === module) main()
