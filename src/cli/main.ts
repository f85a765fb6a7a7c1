// The `tsgi` command line: `serve`, `cgi` and `fastcgi` for an app module. main() returns the exit
// code and never exits itself, so tests call it in-process; bin/tsgi.js (or running this file) exits.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { isTsgiError, TsgiError } from '../errors.js'
import { VERSION } from '../version.js'
import { loadApp } from './load.js'
import { USAGE } from './usage.js'

/** Where main() writes, and how `serve` is stopped; all default to the process's own. */
export interface CliIO {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  /** Stops `serve` like SIGINT/SIGTERM do (for tests and embedding). */
  signal?: AbortSignal
  cwd?: string
}

type Options = NonNullable<ParseArgsConfig['options']>
type Values = Record<string, string | boolean | undefined>

interface Command {
  options: Options
  /** `cgi` ignores extra arguments: a web server may pass ISINDEX words as argv (RFC 3875 §4.4). */
  extraArgs?: boolean
  run(appPath: string, values: Values, io: Required<Omit<CliIO, 'signal'>> & CliIO): Promise<number>
}

const EXPORT: Options = { export: { type: 'string' } }

const COMMANDS: Record<string, Command> = {
  serve: {
    options: { ...EXPORT, host: { type: 'string' }, port: { type: 'string' } },
    async run(appPath, values, io) {
      const port = parsePort(values.port)
      const { serveUntilStopped } = await import('./commands/serve.js')
      const app = await loadApp(appPath, { exportName: str(values.export), cwd: io.cwd })
      return serveUntilStopped(app, { host: str(values.host) ?? '127.0.0.1', port, appPath }, io)
    },
  },
  cgi: {
    options: { ...EXPORT, nph: { type: 'boolean' } },
    extraArgs: true,
    async run(appPath, values, io) {
      // Imported before the app: cgi/run.js scrubs HTTP_PROXY from process.env at load (httpoxy, S-01).
      const { runCgi } = await import('../gateways/cgi/run.js')
      const app = await loadApp(appPath, { exportName: str(values.export), cwd: io.cwd })
      return runCgi(app, { scriptPath: appPath, ...(values.nph === true ? { nph: true } : {}) })
    },
  },
  fastcgi: {
    options: {
      ...EXPORT,
      listen: { type: 'string' },
      'socket-mode': { type: 'string' },
      public: { type: 'boolean' },
      multiplex: { type: 'boolean' },
      'max-body': { type: 'string' },
    },
    async run(appPath, values, io) {
      // Loaded before the app: in the CGI fallback, cgi/run.js must scrub HTTP_PROXY first (S-01).
      if (values.listen === undefined && process.env.REQUEST_METHOD !== undefined) await import('../gateways/cgi/run.js')
      const { fastcgiUntilStopped } = await import('./commands/fastcgi.js')
      const app = await loadApp(appPath, { exportName: str(values.export), cwd: io.cwd })
      return fastcgiUntilStopped(
        app,
        {
          listen: str(values.listen),
          socketMode: str(values['socket-mode']),
          public: values.public === true,
          multiplex: values.multiplex === true,
          maxBody: str(values['max-body']),
        },
        io,
      )
    },
  },
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = {}): Promise<number> {
  const full = {
    stdout: io.stdout ?? ((text: string) => void process.stdout.write(text)),
    stderr: io.stderr ?? ((text: string) => void process.stderr.write(text)),
    cwd: io.cwd ?? process.cwd(),
    ...(io.signal ? { signal: io.signal } : {}),
  }
  try {
    return await dispatch(argv, full)
  } catch (error) {
    full.stderr(describeFailure(error))
    return 1
  }
}

async function dispatch(argv: string[], io: Parameters<Command['run']>[2]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined) {
    io.stderr(USAGE)
    return 1
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    io.stdout(USAGE)
    return 0
  }
  if (name === '-v' || name === '--version') {
    io.stdout(`${VERSION}\n`)
    return 0
  }
  const command = COMMANDS[name]
  if (command === undefined) {
    throw usage(name.startsWith('-') ? `unknown option ${name}` : `unknown command ${JSON.stringify(name)}`)
  }
  const { values, positionals } = parse(rest, command)
  if (values.help === true) {
    io.stdout(USAGE)
    return 0
  }
  const [appPath, extra] = positionals
  if (appPath === undefined) throw usage(`${name} needs an APP module path`)
  if (extra !== undefined && command.extraArgs !== true) throw usage(`unexpected argument ${JSON.stringify(extra)}`)
  return command.run(appPath, values, io)
}

function parse(args: string[], command: Command): { values: Values; positionals: string[] } {
  try {
    const options: Options = { ...command.options, help: { type: 'boolean', short: 'h' } }
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    // No option is `multiple`, so every value is a string or a boolean.
    return { values: values as Values, positionals }
  } catch (error) {
    // node:util's messages run on ("... To specify a positional argument ..."): keep the first sentence.
    const message = error instanceof Error ? error.message : String(error)
    const first = (message.split(/\.\s/)[0] ?? message).replace(/\.$/, '')
    throw usage(first.charAt(0).toLowerCase() + first.slice(1))
  }
}

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 8000
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : NaN
  if (!(port <= 65535)) throw usage(`invalid --port ${JSON.stringify(value)} (expected 0 to 65535)`)
  return port
}

function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function usage(what: string): TsgiError {
  return new TsgiError('ERR_USAGE', `tsgi: ${what}`)
}

function describeFailure(error: unknown): string {
  if (isTsgiError(error, 'ERR_USAGE')) return `${error.message}\nRun \`tsgi --help\` for usage.\n`
  if (isTsgiError(error, 'ERR_LOAD_APP') && error.cause instanceof Error && error.cause.stack) {
    // The app module's own failure (a syntax error, a throwing import): its stack says where.
    return `${error.message}\n${error.cause.stack}\n`
  }
  if (isTsgiError(error)) return `${error.message}\n`
  return `tsgi: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`
}

/** True when this module is the program (`tsx src/cli/main.ts`, `node dist/cli/main.js`), not imported. */
function isEntryModule(): boolean {
  const script = process.argv[1]
  if (script === undefined) return false
  try {
    const self = fileURLToPath(import.meta.url.split('?')[0] ?? import.meta.url)
    return realpathSync(self) === realpathSync(script)
  } catch {
    return false
  }
}

if (isEntryModule()) {
  const code = await main(process.argv.slice(2))
  // Let buffered output reach a pipe before exiting.
  process.stdout.write('', () => process.exit(code))
}
