// The runtimes `tsgi bench --runtime` serves the app on: Node (the one running the bench), Bun and Deno,
// found as TSGI_BUN / TSGI_DENO, else on PATH, else in the checkout's .cache/runtimes (scripts/fetch-runtimes.sh).
import { spawnSync } from 'node:child_process'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { packageRoot } from './where.js'

export const RUNTIMES = ['node', 'bun', 'deno'] as const
export type RuntimeName = (typeof RUNTIMES)[number]

export interface Runtime {
  name: RuntimeName
  /** The binary, as found (a symlink to it leads the CGI scripts' PATH). */
  binary: string
  version: string
  /** The command line that runs a JavaScript or TypeScript file with the flags tsgi needs there. */
  argv: string[]
}

/** What a runtime's files and scripts are named with: `-bun` for Bun's (`build-bun`), nothing for Node's. */
export function suffix(runtime: RuntimeName | undefined): string {
  return runtime === undefined || runtime === 'node' ? '' : `-${runtime}`
}

/** Deno: Node's permissions (files, network, environment, children); `./x.js` finds x.ts as under Node. */
export const DENO_FLAGS = ['run', '-A', '--sloppy-imports']

/** `--runtime node,bun`: names in the order given, each once; undefined is Node alone. */
export function parseRuntimes(list: string | undefined): RuntimeName[] | { unknown: string } {
  if (list === undefined) return ['node']
  const picked: RuntimeName[] = []
  for (const raw of list.split(',')) {
    const word = raw.trim().toLowerCase()
    if (word === '') continue
    const name = RUNTIMES.find((r) => r === word)
    if (name === undefined) return { unknown: raw.trim() }
    if (!picked.includes(name)) picked.push(name)
  }
  return picked
}

export interface Where {
  env: NodeJS.ProcessEnv
  /** The directory holding .cache/runtimes: the package's root. */
  root: string
}

/** The runtime, or how to get it: the sentence a usage error shows. */
export function findRuntime(
  name: RuntimeName,
  where: Where = { env: process.env, root: packageRoot() },
): Runtime | { missing: string } {
  if (name === 'node')
    return { name, binary: process.execPath, version: process.versions.node, argv: [process.execPath] }
  const variable = name === 'bun' ? 'TSGI_BUN' : 'TSGI_DENO'
  const given = where.env[variable]
  if (given !== undefined && given !== '') {
    if (isFile(given)) return described(name, given)
    return { missing: `${variable}=${given} is not a file` }
  }
  const cached = join(where.root, '.cache', 'runtimes', name === 'bun' ? 'bun/bin/bun' : 'deno/deno')
  const binary = onPath(name, where.env.PATH ?? '') ?? (isFile(cached) ? cached : undefined)
  if (binary !== undefined) return described(name, binary)
  return {
    missing:
      `${name} is neither on PATH nor in ${join(where.root, '.cache', 'runtimes')}: install it (its project's ` +
      `instructions), set ${variable}=/path/to/${name}, or in a tsgi checkout run bash scripts/fetch-runtimes.sh`,
  }
}

function described(name: Exclude<RuntimeName, 'node'>, binary: string): Runtime | { missing: string } {
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  const version = /(\d+\.\d+\.\d+\S*)/.exec(run.stdout ?? '')?.[1]
  if (run.status !== 0 || version === undefined) return { missing: `${binary} --version failed: is it ${name}?` }
  return { name, binary, version, argv: name === 'deno' ? [binary, ...DENO_FLAGS] : [binary] }
}

function onPath(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    if (isFile(candidate)) return candidate
  }
  return undefined
}

function isFile(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isFile()
  } catch {
    return false
  }
}

/** Which of `runtimes` a binary is (by its real path), else its own name: what a row was served by. */
export function runtimeOfBinary(binary: string, runtimes: Runtime[]): string {
  const real = (path: string): string => {
    try {
      return realpathSync(path)
    } catch {
      return path
    }
  }
  const found = runtimes.find((r) => real(r.binary) === real(binary))
  return found?.name ?? binary.split('/').pop() ?? binary
}
