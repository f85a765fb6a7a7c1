// `tsgi fastcgi APP`: the resident FastCGI responder until SIGTERM/SIGINT (what mod_fcgid and lighttpd
// send). Without --listen it takes the listening socket on fd 0, or answers once as CGI (one script, both).
import { userInfo } from 'node:os'
import type { App } from '../../app.js'
import { TsgiError } from '../../errors.js'
import { inheritedListen, startedAs } from '../../gateways/auto.js'
import type { FastcgiOptions } from '../../gateways/fastcgi/options.js'
import { isRoot } from '../../net/identity.js'
import { type Command, EXPORT_OPTION, type Io, loadOptions, str, type Values } from '../command.js'
import { loadApp } from '../load.js'

export const fastcgiCommand: Command = {
  options: {
    ...EXPORT_OPTION,
    listen: { type: 'string' },
    'socket-mode': { type: 'string' },
    'socket-owner': { type: 'string' },
    user: { type: 'string' },
    'allow-root': { type: 'boolean' },
    'pid-file': { type: 'string' },
    public: { type: 'boolean' },
    multiplex: { type: 'boolean' },
    'max-body': { type: 'string' },
  },
  async run(appPath, values, io) {
    // Loaded before the app: in the CGI fallback it must scrub HTTP_PROXY first (httpoxy, S-01).
    if (values.listen === undefined) await import('../../gateways/cgi/run.js')
    const options = responderOptions(values, io) // option mistakes fail before the app loads
    const app = await loadApp(appPath, loadOptions(values, io))
    return fastcgiUntilStopped(app, options, values['allow-root'] === true, io)
  },
}

/** The responder's options from the command line, checked. */
function responderOptions(values: Values, io: Io): FastcgiOptions {
  const options: FastcgiOptions = {
    allowPublic: values.public === true,
    multiplex: values.multiplex === true,
    handleSignals: true,
    log: (message) => io.stderr(message.endsWith('\n') ? message : `${message}\n`),
  }
  const listen = str(values.listen)
  if (listen !== undefined) options.listen = listen
  const mode = str(values['socket-mode'])
  if (mode !== undefined) options.socketMode = parseMode(mode)
  const maxBody = str(values['max-body'])
  if (maxBody !== undefined) options.maxBodyBytes = parseBytes(maxBody)
  for (const [flag, key] of [
    ['socket-owner', 'socketOwner'],
    ['user', 'user'],
    ['pid-file', 'pidFile'],
  ] as const) {
    const value = str(values[flag])
    if (value !== undefined) options[key] = value
  }
  return options
}

export async function fastcgiUntilStopped(
  app: App,
  options: FastcgiOptions,
  allowRoot: boolean,
  io: Pick<Io, 'stderr' | 'signal'>,
): Promise<number> {
  if (options.listen === undefined) {
    const how = startedAs()
    if (how === 'cgi') {
      const { runCgi } = await import('../../gateways/cgi/run.js')
      return runCgi(app)
    }
    if (how === 'shell') {
      const what = 'fd 0 is not a listening socket and this is no CGI request'
      const how = 'pass --listen 127.0.0.1:9000 or --listen /path/app.sock (or --listen systemd under a .socket unit)'
      throw new TsgiError('ERR_USAGE', `fastcgi: ${what}: ${how}`)
    }
    options.listen = inheritedListen() // the socket systemd passed (F-32), else the one on fd 0
  }
  // PHP-FPM's rule: a responder never keeps serving as root unless told to.
  if (isRoot() && options.user === undefined && !allowRoot) {
    const how = 'pass --user USER[:GROUP] to serve as that user once listening, or --allow-root'
    throw new TsgiError('ERR_USAGE', `fastcgi: refusing to serve as root: ${how}`)
  }
  const { serveFastcgi } = await import('../../gateways/fastcgi/responder.js')
  const server = await serveFastcgi(app, options)
  const as = options.user === undefined ? '' : `, user ${userInfo().username}`
  io.stderr(`tsgi: FastCGI responder on ${server.address} (pid ${process.pid}${as})\n`)
  io.signal?.addEventListener('abort', () => void server.close())
  if (io.signal?.aborted) void server.close()
  await server.closed
  return 0
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text))
    throw new TsgiError('ERR_USAGE', `--socket-mode must be octal like 0660, got ${JSON.stringify(text)}`)
  return Number.parseInt(text, 8)
}

function parseBytes(text: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text)
  if (!match) throw new TsgiError('ERR_USAGE', `--max-body must be bytes like 10m, got ${JSON.stringify(text)}`)
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  return Number(match[1]) * unit
}
