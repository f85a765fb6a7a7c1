// The `tsgi` command line: `serve`, `cgi` and `fastcgi` for an app module. main() returns the exit
// code and never exits itself, so tests call it in-process; bin/tsgi.js (or running this file) exits.
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isTsgiError } from '../errors.js'
import { VERSION } from '../version.js'
import type { CliIO, Command, Io, Options, Values } from './command.js'
import { usage } from './command.js'
import { USAGE } from './usage.js'

export type { CliIO } from './command.js'

// Each command's module is loaded only when it runs: a CGI request loads the CGI adapter, not the rest.
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand,
  cgi: async () => (await import('./commands/cgi.js')).cgiCommand,
  fastcgi: async () => (await import('./commands/fastcgi.js')).fastcgiCommand,
  build: async () => (await import('./commands/build.js')).buildCommand,
  bench: async () => (await import('./commands/bench.js')).benchCommand,
  front: async () => (await import('./commands/front.js')).frontCommand,
  demo: async () => (await import('./commands/demo.js')).demoCommand,
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: string[], io: CliIO = {}): Promise<number> {
  const full = {
    stdout: io.stdout ?? ((text: string) => void process.stdout.write(text)),
    stderr: io.stderr ?? ((text: string) => void process.stderr.write(text)),
    cwd: io.cwd ?? process.cwd(),
    argv,
    ...(io.signal ? { signal: io.signal } : {}),
  }
  try {
    return await dispatch(argv, full)
  } catch (error) {
    full.stderr(describeFailure(error))
    return 1
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
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
  const load = COMMANDS[name]
  if (load === undefined) {
    throw usage(name.startsWith('-') ? `unknown option ${name}` : `unknown command ${JSON.stringify(name)}`)
  }
  const command = await load()
  const { values, positionals } = parse(rest, command)
  if (values.help === true) {
    io.stdout(USAGE)
    return 0
  }
  const [appPath, extra] = positionals
  if (appPath === undefined && command.appOptional !== true) throw usage(`${name} needs an APP module path`)
  if (extra !== undefined && command.extraArgs !== true) throw usage(`unexpected argument ${JSON.stringify(extra)}`)
  return command.run(appPath ?? '', values, io)
}

function parse(args: string[], command: Command): { values: Values; positionals: string[] } {
  try {
    const options: Options = { ...command.options, help: { type: 'boolean', short: 'h' } }
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { values: values as Values, positionals }
  } catch (error) {
    // node:util's messages run on ("... To specify a positional argument ..."): keep the first sentence.
    const message = error instanceof Error ? error.message : String(error)
    const first = (message.split(/\.\s/)[0] ?? message).replace(/\.$/, '')
    throw usage(first.charAt(0).toLowerCase() + first.slice(1))
  }
}

function describeFailure(error: unknown): string {
  if (isTsgiError(error, 'ERR_USAGE')) return `${error.message}\nRun \`tsgi --help\` for usage.\n`
  // A load failure's message already holds what to act on (the source line, the app's frames).
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
