// `tsgi bench [APP]`: the app served every way tsgi can (CGI in each form, FastCGI, the dev server, an
// in-process call, Apache and nginx when installed), on Node and with --runtime on Bun and Deno too, measured
// side by side; a table, JSON or an HTML page.
import { writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { resolve } from 'node:path'
import { formatHtml } from '../../bench/html.js'
import { parseModes, rowSpecs } from '../../bench/modes.js'
import { killAll } from '../../bench/procs.js'
import { progressBar } from '../../bench/progress.js'
import { formatTable } from '../../bench/report.js'
import { runBench } from '../../bench/run.js'
import { findRuntime, parseRuntimes, type Runtime } from '../../bench/runtimes.js'
import type { BenchOptions } from '../../bench/types.js'
import { helloApp } from '../../bench/where.js'
import { type Command, EXPORT_OPTION, type Io, loadOptions, shapeOption, str, usage, type Values } from '../command.js'
import { loadApp } from '../load.js'

export const benchCommand: Command = {
  options: {
    ...EXPORT_OPTION,
    modes: { type: 'string' },
    runtime: { type: 'string' },
    concurrency: { type: 'string', short: 'c' },
    duration: { type: 'string' },
    rounds: { type: 'string' },
    path: { type: 'string' },
    json: { type: 'boolean' },
    html: { type: 'string' },
  },
  appOptional: true,
  async run(appPath, values, io) {
    const settings = benchSettings(values)
    const app = appPath === '' ? helloApp() : resolve(io.cwd, appPath)
    const loaded = await loadApp(app, loadOptions(values, io))
    const shape = shapeOption(values)
    const options: BenchOptions = {
      app: {
        path: app,
        exportName: str(values.export) ?? 'default',
        stripScriptName: values['strip-script-name'] === true,
        ...(shape === undefined ? {} : { shape }),
      },
      label: appPath === '' ? 'examples/hello.ts' : appPath,
      loaded,
      isHello: app === helloApp(),
      ...settings,
    }
    return runWithStops(options, values, io)
  },
}

type Settings = Pick<BenchOptions, 'modes' | 'runtimes' | 'concurrency' | 'durationMs' | 'rounds' | 'path'>

function benchSettings(values: Values): Settings {
  const names = parseRuntimes(str(values.runtime))
  if (!Array.isArray(names))
    throw usage(`--runtime: unknown runtime ${JSON.stringify(names.unknown)} (node, bun or deno)`)
  if (names.length === 0) throw usage('--runtime needs at least one of node, bun, deno')
  const modes = parseModes(str(values.modes), names.length > 1)
  if (!Array.isArray(modes)) throw usage(`--modes: unknown mode ${JSON.stringify(modes.unknown)} (see tsgi --help)`)
  if (modes.length === 0) throw usage('--modes needs at least one mode')
  if (rowSpecs(modes, names).length === 0)
    throw usage(`--modes ${modes.join(',')} run on node only: add node to --runtime`)
  const runtimes = names.map(found)
  const path = str(values.path) ?? '/'
  if (!path.startsWith('/')) throw usage(`--path must start with /, got ${JSON.stringify(path)}`)
  return {
    modes,
    runtimes,
    concurrency: count(values.concurrency, '--concurrency', 2 * availableParallelism()),
    durationMs: seconds(values.duration, 0.5) * 1000,
    rounds: count(values.rounds, '--rounds', 3),
    path,
  }
}

/** The runtime's binary and version, or a usage error saying how to get it. */
function found(name: Runtime['name']): Runtime {
  const runtime = findRuntime(name)
  if ('missing' in runtime) throw usage(`--runtime ${name}: ${runtime.missing}`)
  return runtime
}

function count(value: Values[string], flag: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : 0
  if (!(n >= 1 && n <= 10_000)) throw usage(`${flag} takes a whole number from 1, got ${JSON.stringify(value)}`)
  return n
}

function seconds(value: Values[string], fallback: number): number {
  if (value === undefined) return fallback
  const n = typeof value === 'string' ? Number(value) : Number.NaN
  if (!(n > 0 && n <= 3600)) throw usage(`--duration takes seconds like 0.5, got ${JSON.stringify(value)}`)
  return n
}

/** Runs the bench; Ctrl-C (or the caller's signal) stops it, its processes and temp files cleaned up. */
async function runWithStops(options: BenchOptions, values: Values, io: Io): Promise<number> {
  const controller = new AbortController()
  const stop = (): void => controller.abort(new Error('tsgi bench: stopped'))
  const bar = process.stderr.isTTY === true ? progressBar(io.stderr, process.stderr.columns ?? 80) : undefined
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
  process.once('exit', killAll)
  io.signal?.addEventListener('abort', stop)
  try {
    const result = await runBench({ ...options, signal: controller.signal, ...(bar ? { onProgress: bar.update } : {}) })
    bar?.clear()
    const html = str(values.html)
    if (html !== undefined) {
      writeFileSync(resolve(io.cwd, html), formatHtml(result))
      io.stderr(`tsgi bench: wrote ${html}\n`)
    }
    io.stdout(values.json === true ? `${JSON.stringify(result, null, 2)}\n` : formatTable(result))
    return 0
  } catch (error) {
    bar?.clear()
    if (!controller.signal.aborted) throw error
    io.stderr('tsgi bench: stopped\n')
    return 130
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    process.off('exit', killAll)
    io.signal?.removeEventListener('abort', stop)
  }
}
