// Which backend serves a request path: `/cgi-bin/NAME/rest` runs the script NAME of a directory (Apache's
// ScriptAlias), a FastCGI prefix forwards to its responder. Sets SCRIPT_NAME and PATH_INFO (RFC 3875 §4.1.13, §4.1.5).
import { realpathSync, statSync } from 'node:fs'
import { join, sep } from 'node:path'
import type { Backend } from './types.js'

export interface Match {
  backend: Backend
  scriptName: string
  pathInfo: string
  /** The script a CGI route runs (SCRIPT_FILENAME). */
  scriptFilename?: string
}

export interface Route {
  /** Mount point without a trailing slash: `/cgi-bin`, `/fcgi`; '' mounts at the root. */
  prefix: string
  /** The match below `prefix` for the decoded path `rest` ('' or starting with '/'); undefined: 404. */
  match(rest: string): Match | undefined
}

/** `/x` and `/x/...` are below the prefix `/x`; `/xy` is not. */
export function below(prefix: string, path: string): string | undefined {
  if (prefix === '') return path
  if (!path.startsWith(prefix)) return undefined
  const rest = path.slice(prefix.length)
  return rest === '' || rest.startsWith('/') ? rest : undefined
}

/** A FastCGI responder mounted at `prefix`: SCRIPT_NAME is the prefix, PATH_INFO what follows. */
export function fastcgiRoute(prefix: string, backend: Backend): Route {
  return { prefix, match: (rest) => ({ backend, scriptName: prefix, pathInfo: rest }) }
}

/**
 * Scripts of `dir` at `prefix`: the path's segments are walked until one names a regular file, which is
 * the script; the rest is PATH_INFO. Hidden names, `.` and `..` are refused, and the script's real path
 * must stay inside the directory (S-03): a symlink out of it is a 404, as is anything not executable.
 */
export function cgiRoute(prefix: string, dir: string, backendFor: (script: string) => Backend): Route {
  const root = realpathSync(dir)
  return {
    prefix,
    match(rest) {
      const segments = rest.split('/').slice(1)
      let path = root
      for (let i = 0; i < segments.length; i++) {
        const name = segments[i]!
        if (name === '' || name.startsWith('.') || name.includes('\0')) return undefined
        path = join(path, name)
        const kind = fileKind(path)
        if (kind === 'dir') continue
        if (kind !== 'file') return undefined
        const real = realpathSync(path)
        if (!real.startsWith(root + sep)) return undefined
        const scriptName = `${prefix}/${segments.slice(0, i + 1).join('/')}`
        const pathInfo = segments.length > i + 1 ? `/${segments.slice(i + 1).join('/')}` : ''
        return { backend: backendFor(real), scriptName, pathInfo, scriptFilename: real }
      }
      return undefined
    },
  }
}

function fileKind(path: string): 'file' | 'dir' | undefined {
  try {
    const stat = statSync(path)
    if (stat.isDirectory()) return 'dir'
    // Any execute bit: the kernel decides the rest when the script is started (a 502 names the reason).
    return stat.isFile() && (stat.mode & 0o111) !== 0 ? 'file' : undefined
  } catch {
    return undefined
  }
}

/** The route for `path` (longest prefix first) and what it matched. */
export function route(routes: readonly Route[], path: string): Match | undefined {
  for (const r of routes) {
    const rest = below(r.prefix, path)
    if (rest !== undefined) return r.match(rest)
  }
  return undefined
}

/**
 * The decoded path without `.` and `..` segments (RFC 3986 §5.2.4), as Apache's ap_normalize_path makes
 * it before routing; undefined when `..` would climb above `/` (a 400). A script mapping PATH_INFO onto
 * files never sees `/../` (S-03).
 */
export function normalizePath(path: string): string | undefined {
  if (!/(^|\/)\.\.?(\/|$)/.test(path)) return path
  const out: string[] = []
  const segments = path.split('/')
  for (const [i, segment] of segments.entries()) {
    if (segment === '.') {
      if (i === segments.length - 1) out.push('')
    } else if (segment === '..') {
      if (out.length <= 1) return undefined
      out.pop()
      if (i === segments.length - 1) out.push('')
    } else out.push(segment)
  }
  return out.join('/')
}
