// Why an app module failed to load, said so a user can act on it: a syntax error as file:line:column with
// the offending line, any other failure with the stack frames of the user's own code only.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface Location {
  file: string
  line: number
  column: number
  message: string
}

/** The message of the ERR_LOAD_APP error for `error`, thrown while importing `file`. */
export async function describeLoadFailure(file: string, error: unknown): Promise<string> {
  // Any failure of a JavaScript module is checked for a syntax error first: loaders word it differently.
  const at = transformError(error) ?? (/\.[cm]?js$/.test(file) ? syntaxCheck(file) : undefined)
  if (at !== undefined) {
    return `tsgi: syntax error in ${at.file}:${at.line}:${at.column}: ${at.message}\n${sourceFrame(at)}`
  }
  const why = error instanceof Error ? error.message : String(error)
  const frames = error instanceof Error ? userFrames(error.stack ?? '') : []
  return [`tsgi: cannot load ${file}: ${why}`, ...frames].join('\n')
}

/** esbuild's message through tsx: `Transform failed with 1 error:\n/app.ts:3:9: ERROR: Expected ...`. */
function transformError(error: unknown): Location | undefined {
  const text = error instanceof Error ? error.message : ''
  const match = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(text)
  if (match === null) return undefined
  return { file: match[1]!, line: Number(match[2]), column: Number(match[3]) + 1, message: match[4]! }
}

/**
 * Node's SyntaxError from an ES module import has no location at all; `node --check` prints it (file:line,
 * the line, a caret under the column). Only run on the error path, so its start-up cost does not matter.
 */
function syntaxCheck(file: string): Location | undefined {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 })
  const lines = (check.stderr ?? '').split('\n')
  const head = /^(.+):(\d+)$/.exec(lines[0] ?? '')
  const caret = (lines[2] ?? '').indexOf('^')
  const message = lines.find((line) => line.startsWith('SyntaxError: '))
  if (head === null || message === undefined) return undefined
  return { file: head[1]!, line: Number(head[2]), column: caret + 1, message: message.slice('SyntaxError: '.length) }
}

/** The offending line with its number and a caret under the column. */
function sourceFrame({ file, line, column }: Location): string {
  let text: string | undefined
  try {
    text = readFileSync(file, 'utf8').split(/\r?\n/)[line - 1]
  } catch {
    return ''
  }
  if (text === undefined) return ''
  const gutter = String(line)
  return `  ${gutter} | ${text}\n  ${' '.repeat(gutter.length)} | ${' '.repeat(Math.max(0, column - 1))}^`
}

// Frames of Node's module loader, of the TypeScript loader and of tsgi itself say nothing about the app.
const PACKAGE = fileURLToPath(new URL('../../', import.meta.url))
const OWN = [
  `${PACKAGE}src/`,
  `${PACKAGE}dist/`,
  `${PACKAGE}bin/`,
  `${PACKAGE}node_modules/`,
  '/node_modules/tsx/',
  '/node_modules/esbuild/',
]

function userFrames(stack: string): string[] {
  return stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line) && !/\bnode:/.test(line) && !OWN.some((own) => line.includes(own)))
    .slice(0, 10)
}
