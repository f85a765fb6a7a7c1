// What a `tsgi` subcommand is (its options and a run()), the I/O it gets, and the helpers they share.
import { isAbsolute, relative } from 'node:path'
import type { ParseArgsConfig } from 'node:util'
import { isShape, type Shape } from '../bridges/shape.js'
import { TsgiError } from '../errors.js'

/** Where main() writes, and how a server command is stopped; all default to the process's own. */
export interface CliIO {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  /** Stops a server command like SIGINT/SIGTERM do (for tests and embedding). */
  signal?: AbortSignal
  cwd?: string
}

/** CliIO with the defaults filled in, and the command line as given (for hints that repeat it). */
export type Io = Required<Omit<CliIO, 'signal'>> & CliIO & { argv: readonly string[] }

export type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | string[] | undefined>

export interface Command {
  options: Options
  /** Extra positional arguments are ignored instead of refused. */
  extraArgs?: boolean
  /** The APP argument may be left out (`front` takes none, `bench` has a default): run gets ''. */
  appOptional?: boolean
  run(appPath: string, values: Values, io: Io): Promise<number>
}

/** How every command picks the app: `--export NAME`, `--shape tsgi|fetch|node`, `--strip-script-name`. */
export const EXPORT_OPTION: Options = {
  export: { type: 'string' },
  shape: { type: 'string' },
  'strip-script-name': { type: 'boolean' },
}

export function str(value: Values[string]): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A command-line mistake: printed with a pointer to `tsgi --help`, exit code 1. */
export function usage(what: string): TsgiError {
  return new TsgiError('ERR_USAGE', `tsgi: ${what}`)
}

/**
 * How the user ran tsgi, for hints that must be commands that run: the script as it was started (the
 * installed command, npx's or a checkout's bin/tsgi.js), relative when it is below the current directory.
 */
export function tsgiCommand(script: string | undefined = process.argv[1], cwd = process.cwd()): string {
  if (script === undefined || !/[/\\](tsgi|tsgi\.js)$/.test(script)) return 'tsgi'
  const path = relative(cwd, script)
  return path.startsWith('..') || isAbsolute(path) ? script : `./${path}`
}

/** The command line the user ran, with `--export NAME` in place of any --export it had. */
export function withExport(io: Io, name: string): string {
  const args: string[] = []
  for (let i = 0; i < io.argv.length; i++) {
    const arg = io.argv[i]!
    if (arg === '--export') i++
    else if (!arg.startsWith('--export=')) args.push(arg)
  }
  return `${tsgiCommand(undefined, io.cwd)} ${shellLine([...args, '--export', name])}`
}

/** A command line: each argument quoted for a POSIX shell when it needs to be. */
export function shellLine(args: readonly string[]): string {
  return args.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(' ')
}

/** The LoadOptions a command passes: export name, shape, mount, base directory, the hint's command line. */
export function loadOptions(values: Values, io: Io) {
  return {
    exportName: str(values.export),
    shape: shapeOption(values),
    mount: { stripScriptName: values['strip-script-name'] === true },
    cwd: io.cwd,
    withExport: (name: string) => withExport(io, name),
  }
}

/** `--shape`, checked. */
export function shapeOption(values: Values): Shape | undefined {
  const shape = str(values.shape)
  if (shape === undefined || isShape(shape)) return shape
  throw usage(`--shape must be tsgi, fetch or node, got ${JSON.stringify(shape)}`)
}
