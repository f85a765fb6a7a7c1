// `tsgi fastcgi APP`: the resident FastCGI responder until SIGTERM/SIGINT (what mod_fcgid and lighttpd
// send). Without --listen it takes the listening socket on fd 0, or answers once as CGI (one script, both).
import type { App } from '../../app.js'
import { TsgiError } from '../../errors.js'
import { inheritedListen, startedAs } from '../../gateways/auto.js'
import type { FastcgiOptions } from '../../gateways/fastcgi/options.js'
import type { FastcgiServer } from '../../gateways/fastcgi/responder.js'
import { isRoot } from '../../net/identity.js'
import { type ListenSpec, parseListen } from '../../net/listen.js'
import { workerSettings } from '../../pm/messages.js'
import { type Command, EXPORT_OPTION, type Io, loadOptions, str, type Values } from '../command.js'
import { loadApp } from '../load.js'
import { parseBytes } from '../units.js'
import { POOL_OPTIONS, poolOptions, runPoolCommand, runWorkerCommand, soloOperator } from './fastcgi-pool.js'

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
    ...POOL_OPTIONS,
  },
  async run(appPath, values, io) {
    const worker = workerSettings()
    if (worker !== undefined) {
      const app = await loadApp(appPath, loadOptions(values, io))
      return runWorkerCommand(app, responderOptions(values, io), worker, values, io)
    }
    // Loaded before the app: in the CGI fallback it must scrub HTTP_PROXY first (httpoxy, S-01).
    if (values.listen === undefined) await import('../../gateways/cgi/run.js')
    const options = responderOptions(values, io) // option mistakes fail before the app loads
    const pm = poolOptions(values)
    if (pm !== undefined && !(values.listen === undefined && startedAs() === 'cgi')) {
      const listen = listenSpec(options)
      checkRoot(options, values['allow-root'] === true)
      return runPoolCommand(appPath, values, io, listen, options, pm)
    }
    const solo = soloOperator(await loadApp(appPath, loadOptions(values, io)), values, io)
    if (solo.meter !== undefined) options.meter = solo.meter
    return fastcgiUntilStopped(solo.app, options, values['allow-root'] === true, io, solo.attach)
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
  if (maxBody !== undefined) options.maxBodyBytes = parseBytes(maxBody, '--max-body')
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
  attach: (server: FastcgiServer) => void = () => {},
): Promise<number> {
  if (options.listen === undefined && startedAs() === 'cgi') {
    const { runCgi } = await import('../../gateways/cgi/run.js')
    return runCgi(app)
  }
  options.listen = listenSpec(options)
  checkRoot(options, allowRoot)
  const { serveFastcgi } = await import('../../gateways/fastcgi/responder.js')
  const server = await serveFastcgi(app, options)
  attach(server)
  // The name given, not userInfo(): Bun answers "unknown" once the uid changed.
  const as = options.user === undefined ? '' : `, user ${options.user.split(':')[0]}`
  io.stderr(`tsgi: FastCGI responder on ${server.address} (pid ${process.pid}${as})\n`)
  io.signal?.addEventListener('abort', () => void server.close())
  if (io.signal?.aborted) void server.close()
  await server.closed
  return 0
}

/** --listen, else the socket systemd passed (F-32), else the one on fd 0; an error when started from a shell. */
function listenSpec(options: FastcgiOptions): ListenSpec {
  if (typeof options.listen === 'string') return parseListen(options.listen)
  if (options.listen !== undefined) return options.listen
  if (startedAs() === 'shell') {
    const what = 'fd 0 is not a listening socket and this is no CGI request'
    const how = 'pass --listen 127.0.0.1:9000 or --listen /path/app.sock (or --listen systemd under a .socket unit)'
    throw new TsgiError('ERR_USAGE', `fastcgi: ${what}: ${how}`)
  }
  return parseListen(inheritedListen())
}

/** PHP-FPM's rule: a responder never keeps serving as root unless told to. */
function checkRoot(options: FastcgiOptions, allowRoot: boolean): void {
  if (isRoot() && options.user === undefined && !allowRoot) {
    const how = 'pass --user USER[:GROUP] to serve as that user once listening, or --allow-root'
    throw new TsgiError('ERR_USAGE', `fastcgi: refusing to serve as root: ${how}`)
  }
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text))
    throw new TsgiError('ERR_USAGE', `--socket-mode must be octal like 0660, got ${JSON.stringify(text)}`)
  return Number.parseInt(text, 8)
}
