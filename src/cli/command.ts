// What a `tsgi` subcommand is (its options and a run()), the I/O it gets, and the helpers they share.
import type { ParseArgsConfig } from 'node:util'
import { TsgiError } from '../errors.js'

/** Where main() writes, and how a server command is stopped; all default to the process's own. */
export interface CliIO {
  stdout?: (text: string) => void
  stderr?: (text: string) => void
  /** Stops a server command like SIGINT/SIGTERM do (for tests and embedding). */
  signal?: AbortSignal
  cwd?: string
}

/** CliIO with the defaults filled in. */
export type Io = Required<Omit<CliIO, 'signal'>> & CliIO

export type Options = NonNullable<ParseArgsConfig['options']>
export type Values = Record<string, string | boolean | undefined>

export interface Command {
  options: Options
  /** Extra positional arguments are ignored instead of refused. */
  extraArgs?: boolean
  run(appPath: string, values: Values, io: Io): Promise<number>
}

/** `--export NAME`, which every command takes. */
export const EXPORT_OPTION: Options = { export: { type: 'string' } }

export function str(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

/** A command-line mistake: printed with a pointer to `tsgi --help`, exit code 1. */
export function usage(what: string): TsgiError {
  return new TsgiError('ERR_USAGE', `tsgi: ${what}`)
}
