// esbuild for `tsgi build` and the compile cache: found in tsgi's own dependencies or the app's project (an
// optional peer), and its failures as a compiler prints them (file:line:column and the line).
import { createRequire } from 'node:module'
import { isAbsolute, resolve } from 'node:path'
import { TsgiError } from '../errors.js'

export type Esbuild = typeof import('esbuild')

export interface FoundEsbuild {
  esbuild: Esbuild
  /** Its package.json: the compile cache keeps it among an entry's inputs (a new esbuild recompiles). */
  manifest: string
  version: string
}

/** esbuild from tsgi's own dependencies, else from the project of `from`; undefined when neither has it. */
export function findEsbuild(from: string): FoundEsbuild | undefined {
  for (const base of [import.meta.url, from]) {
    try {
      const manifest = createRequire(base).resolve('esbuild/package.json')
      const esbuild = createRequire(manifest)('./') as Esbuild
      return { esbuild, manifest, version: esbuild.version }
    } catch {
      // Not installed there: try the next place.
    }
  }
  return undefined
}

interface EsbuildMessage {
  text: string
  location: { file: string; line: number; column: number; lineText: string } | null
}

/** `app.ts:3:10: Could not resolve "x"` and the offending line, as a compiler prints it. */
export function formatMessage({ text, location }: EsbuildMessage): string {
  if (location === null) return text
  const { file, line, column, lineText } = location
  return `${file}:${line}:${column + 1}: ${text}\n  ${line} | ${lineText}\n  ${' '.repeat(String(line).length)} | ${' '.repeat(column)}^`
}

/** A TsgiError ERR_BUILD whose message starts with `who: ` (the command that failed). */
export function buildError(who: string, message: string): TsgiError {
  return new TsgiError('ERR_BUILD', `${who}: ${message}`)
}

function fromEsbuild(who: string, error: unknown, base: string | undefined): TsgiError {
  const errors = (error as { errors?: EsbuildMessage[] }).errors
  if (!Array.isArray(errors)) return buildError(who, error instanceof Error ? error.message : String(error))
  const located = errors.map((message) => (base === undefined ? message : absolute(message, base)))
  return buildError(who, `the app does not bundle:\n${located.map(formatMessage).join('\n')}`)
}

/** The message with its file as an absolute path (esbuild's are relative to its working directory). */
function absolute(message: EsbuildMessage, base: string): EsbuildMessage {
  const { location } = message
  if (location === null || isAbsolute(location.file) || location.file.includes(':')) return message
  return { ...message, location: { ...location, file: resolve(base, location.file) } }
}

/** Runs an esbuild call; its failure becomes an ERR_BUILD with esbuild's messages (files absolute with `base`). */
export function runEsbuild<T>(who: string, run: () => T, base?: string): T {
  try {
    return run()
  } catch (error) {
    throw fromEsbuild(who, error, base)
  }
}

export async function runEsbuildAsync<T>(who: string, run: () => Promise<T>, base?: string): Promise<T> {
  try {
    return await run()
  } catch (error) {
    throw fromEsbuild(who, error, base)
  }
}
