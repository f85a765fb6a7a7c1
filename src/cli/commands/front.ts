// `tsgi front`: the HTTP front on 127.0.0.1:8080 until SIGINT/SIGTERM: `/cgi-bin/*` from a directory of
// CGI scripts, each `--fastcgi PREFIX=ADDR` to a FastCGI responder. For development and measuring only.
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { startFront } from '../../front/index.js'
import { type Command, str, usage, type Values } from '../command.js'
import { untilStopped } from '../until-stopped.js'
import { parsePort } from './serve.js'

export const frontCommand: Command = {
  options: {
    'cgi-bin': { type: 'string' },
    fastcgi: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
    'cgi-timeout': { type: 'string' },
    env: { type: 'string', multiple: true },
    quiet: { type: 'boolean' },
  },
  appOptional: true,
  async run(extra, values, io) {
    if (extra !== '') throw usage(`front takes no APP (got ${JSON.stringify(extra)}): see --cgi-bin and --fastcgi`)
    const cgiBin = cgiDirectory(str(values['cgi-bin']), io.cwd)
    const fastcgi = fastcgiMounts(values.fastcgi)
    if (cgiBin === undefined && fastcgi.length === 0) throw usage('front needs --cgi-bin DIR or --fastcgi PREFIX=ADDR')
    const front = await startFront({
      host: str(values.host) ?? '127.0.0.1',
      port: parsePort(values.port, 8080),
      ...(cgiBin === undefined ? {} : { cgiBin }),
      fastcgi,
      ...timeout(str(values['cgi-timeout'])),
      cgiEnv: envPairs(values.env),
      log: values.quiet === true ? false : (line) => io.stderr(`${line}\n`),
      errors: (line) => io.stderr(`${line}\n`),
    })
    const mounts = [...(cgiBin ? [`/cgi-bin/ -> ${cgiBin}`] : []), ...fastcgi.map((f) => `${f.prefix} -> ${f.address}`)]
    io.stderr(`tsgi front: ${front.url} (${mounts.join(', ')}; Ctrl-C to stop)\n`)
    return untilStopped(front, io)
  },
}

function cgiDirectory(dir: string | undefined, cwd: string): string | undefined {
  if (dir === undefined) return undefined
  const path = resolve(cwd, dir)
  if (!existsSync(path) || !statSync(path).isDirectory()) throw usage(`--cgi-bin ${dir}: no such directory`)
  return path
}

/** `--fastcgi /fcgi=127.0.0.1:9000` or `--fastcgi /app=/run/app.sock`, repeatable. */
function fastcgiMounts(values: Values[string]): Array<{ prefix: string; address: string }> {
  return list(values).map((spec) => {
    const at = spec.indexOf('=')
    const prefix = spec.slice(0, at)
    if (at < 1 || !prefix.startsWith('/') || at === spec.length - 1) {
      throw usage(`--fastcgi takes PREFIX=ADDR like /fcgi=127.0.0.1:9000, got ${JSON.stringify(spec)}`)
    }
    return { prefix, address: spec.slice(at + 1) }
  })
}

/** `--env NAME=VALUE`, repeatable: fixed variables for every CGI script (Apache's SetEnv). */
function envPairs(values: Values[string]): Record<string, string> {
  const env: Record<string, string> = {}
  for (const spec of list(values)) {
    const at = spec.indexOf('=')
    if (at < 1) throw usage(`--env takes NAME=VALUE, got ${JSON.stringify(spec)}`)
    env[spec.slice(0, at)] = spec.slice(at + 1)
  }
  return env
}

function list(values: Values[string]): string[] {
  return Array.isArray(values) ? values : typeof values === 'string' ? [values] : []
}

function timeout(seconds: string | undefined): { cgiTimeoutMs?: number } {
  if (seconds === undefined) return {}
  const value = Number(seconds)
  if (!(value > 0)) throw usage(`--cgi-timeout takes seconds, got ${JSON.stringify(seconds)}`)
  return { cgiTimeoutMs: value * 1000 }
}
