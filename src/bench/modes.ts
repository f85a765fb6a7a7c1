// The rows of `tsgi bench`: every way an app can be served, with the family each belongs to and the
// `--modes` names that pick them.
import type { Family } from './chart.js'

export const MODES = [
  { id: 'cgi-tsx', name: 'cgi tsx', family: 'cgi', what: 'CGI, TypeScript through tsx per request' },
  { id: 'cgi-esm', name: 'cgi esm', family: 'cgi', what: 'CGI, the app compiled to ES modules, packages left out' },
  { id: 'cgi-build', name: 'cgi build', family: 'cgi', what: 'CGI, one CommonJS bundle from `tsgi build`' },
  { id: 'cgi-cached', name: 'cgi cached', family: 'cgi', what: 'CGI, TypeScript through the compile cache' },
  { id: 'bare-cjs', name: 'bare cjs', family: 'cgi', what: 'CGI floor: a bare CommonJS script printing the hello' },
  { id: 'fastcgi', name: 'fastcgi', family: 'resident', what: 'one resident FastCGI responder behind the front' },
  { id: 'dev-server', name: 'dev server', family: 'resident', what: '`tsgi serve`, HTTP straight to the app' },
  { id: 'in-process', name: 'in-process', family: 'in-process', what: 'runApp called in the bench process' },
  { id: 'apache-cgid', name: 'apache cgid', family: 'cgi', what: 'Apache mod_cgid running the `cgi build` script' },
  { id: 'nginx-fastcgi', name: 'nginx fastcgi', family: 'resident', what: 'nginx in front of a FastCGI responder' },
] as const satisfies ReadonlyArray<{ id: string; name: string; family: Family; what: string }>

export type ModeId = (typeof MODES)[number]['id']
export type Mode = (typeof MODES)[number]

/** The CGI rows served by the front from its cgi-bin: the script's name there. */
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

/** `--modes a,b`: ids or names (`dev-server`, `dev server`); undefined: all of them. */
export function parseModes(list: string | undefined): ModeId[] | { unknown: string } {
  if (list === undefined) return MODES.map((mode) => mode.id)
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
