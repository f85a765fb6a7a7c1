// The rows of `tsgi bench`: every way an app can be served, with the family each belongs to, the runtimes
// it runs on and the `--modes` names that pick them. A row is one mode on one runtime.
import type { Family } from './chart.js'
import type { RuntimeName } from './runtimes.js'

const NODE = ['node'] as const
const ALL = ['node', 'bun', 'deno'] as const

export const MODES = [
  { id: 'cgi-tsx', name: 'cgi tsx', family: 'cgi', on: NODE, what: 'CGI, TypeScript through tsx per request' },
  {
    id: 'cgi-esm',
    name: 'cgi esm',
    family: 'cgi',
    on: NODE,
    what: 'CGI, the app compiled to ES modules, packages left out',
  },
  { id: 'cgi-build', name: 'cgi build', family: 'cgi', on: ALL, what: 'CGI, one bundle from `tsgi build --runtime`' },
  { id: 'cgi-cached', name: 'cgi cached', family: 'cgi', on: NODE, what: 'CGI, TypeScript through the compile cache' },
  { id: 'bare-cjs', name: 'bare cjs', family: 'cgi', on: ALL, what: 'CGI floor: a bare script printing the hello' },
  {
    id: 'fastcgi',
    name: 'fastcgi',
    family: 'resident',
    on: ALL,
    what: 'one resident FastCGI responder behind the front',
  },
  { id: 'dev-server', name: 'dev server', family: 'resident', on: ALL, what: '`tsgi serve`, HTTP straight to the app' },
  { id: 'in-process', name: 'in-process', family: 'in-process', on: NODE, what: 'runApp called in the bench process' },
  {
    id: 'apache-cgid',
    name: 'apache cgid',
    family: 'cgi',
    on: NODE,
    what: 'Apache mod_cgid running the `cgi build` script',
  },
  {
    id: 'nginx-fastcgi',
    name: 'nginx fastcgi',
    family: 'resident',
    on: ALL,
    what: 'nginx in front of a FastCGI responder',
  },
  {
    id: 'http',
    name: 'http',
    family: 'resident',
    on: ALL,
    what: "resident floor: the runtime's own HTTP server answering the hello (node:http, Bun.serve, Deno.serve)",
    // In the default set only when several runtimes are compared: a run without --runtime stays as it was.
    compare: true,
  },
] as const satisfies ReadonlyArray<{
  id: string
  name: string
  family: Family
  on: readonly RuntimeName[]
  what: string
  compare?: boolean
}>

export type ModeId = (typeof MODES)[number]['id']
export type Mode = (typeof MODES)[number]

/** One row of the table: a mode on a runtime, and its name there (`fastcgi (bun)`). */
export interface RowSpec {
  mode: Mode
  runtime: RuntimeName
  name: string
}

/** The CGI rows served by the front from its cgi-bin: the script's name there (`build-bun` on Bun). */
export const FRONT_SCRIPTS: Partial<Record<ModeId, string>> = {
  'cgi-tsx': 'tsx',
  'cgi-esm': 'esm',
  'cgi-build': 'build',
  'cgi-cached': 'cached',
  'bare-cjs': 'bare',
}

export function modeOf(id: ModeId): Mode {
  return MODES.find((mode) => mode.id === id)!
}

/** `--modes a,b`: ids or names (`dev-server`, `dev server`); undefined: the default set. */
export function parseModes(list: string | undefined, compare = false): ModeId[] | { unknown: string } {
  if (list === undefined) return MODES.filter((mode) => compare || !('compare' in mode)).map((mode) => mode.id)
  const picked: ModeId[] = []
  for (const raw of list.split(',')) {
    const word = raw.trim().toLowerCase().replace(/\s+/g, '-')
    if (word === '') continue
    const mode = MODES.find((m) => m.id === word)
    if (mode === undefined) return { unknown: raw.trim() }
    if (!picked.includes(mode.id)) picked.push(mode.id)
  }
  return picked
}

/**
 * The rows: each mode on each chosen runtime it runs on, a mode's runtimes side by side. A row of a mode that
 * runs on more than one runtime names its runtime (`fastcgi (bun)`), Node's too when others are in the run.
 */
export function rowSpecs(modes: ModeId[], runtimes: RuntimeName[]): RowSpec[] {
  const named = (runtime: RuntimeName): boolean => runtime !== 'node' || runtimes.length > 1
  return modes.flatMap((id) => {
    const mode = modeOf(id)
    const on: readonly RuntimeName[] = mode.on
    return runtimes
      .filter((runtime) => on.includes(runtime))
      .map((runtime) => {
        const name = named(runtime) && on.length > 1 ? `${mode.name} (${runtime})` : mode.name
        return { mode, runtime, name }
      })
  })
}
