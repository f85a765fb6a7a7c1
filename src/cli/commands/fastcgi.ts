// `tsgi fastcgi APP`: the resident FastCGI responder until SIGTERM/SIGINT (what mod_fcgid and lighttpd
// send). Without --listen it takes the listening socket on fd 0, or answers once as CGI (one script, both).
import type { App } from '../../app.js'
import { TsgiError } from '../../errors.js'
import { startedAs } from '../../gateways/auto.js'
import { type Command, EXPORT_OPTION, str } from '../command.js'
import { loadApp } from '../load.js'

export const fastcgiCommand: Command = {
  options: {
    ...EXPORT_OPTION,
    listen: { type: 'string' },
    'socket-mode': { type: 'string' },
    public: { type: 'boolean' },
    multiplex: { type: 'boolean' },
    'max-body': { type: 'string' },
  },
  async run(appPath, values, io) {
    // Loaded before the app: in the CGI fallback it must scrub HTTP_PROXY first (httpoxy, S-01).
    if (values.listen === undefined) await import('../../gateways/cgi/run.js')
    const app = await loadApp(appPath, { exportName: str(values.export), cwd: io.cwd })
    const options = {
      listen: str(values.listen),
      socketMode: str(values['socket-mode']),
      public: values.public === true,
      multiplex: values.multiplex === true,
      maxBody: str(values['max-body']),
    }
    return fastcgiUntilStopped(app, options, io)
  },
}

export interface FastcgiCommandOptions {
  listen: string | undefined
  socketMode: string | undefined
  public: boolean
  multiplex: boolean
  maxBody: string | undefined
}

interface Io {
  stderr: (text: string) => void
  signal?: AbortSignal
}

export async function fastcgiUntilStopped(app: App, options: FastcgiCommandOptions, io: Io): Promise<number> {
  let listen = options.listen
  if (listen === undefined) {
    const how = startedAs()
    if (how === 'fastcgi') listen = 'fd:0'
    else if (how === 'cgi') {
      const { runCgi } = await import('../../gateways/cgi/run.js')
      return runCgi(app)
    } else {
      throw new TsgiError(
        'ERR_USAGE',
        'fastcgi: fd 0 is not a listening socket and this is no CGI request: pass --listen 127.0.0.1:9000 or --listen /path/app.sock',
      )
    }
  }
  const { serveFastcgi } = await import('../../gateways/fastcgi/responder.js')
  const server = await serveFastcgi(app, {
    listen,
    allowPublic: options.public,
    multiplex: options.multiplex,
    handleSignals: true,
    log: (message) => io.stderr(message.endsWith('\n') ? message : `${message}\n`),
    ...(options.socketMode !== undefined ? { socketMode: parseMode(options.socketMode) } : {}),
    ...(options.maxBody !== undefined ? { maxBodyBytes: parseBytes(options.maxBody) } : {}),
  })
  io.stderr(`tsgi: FastCGI responder on ${server.address} (pid ${process.pid})\n`)
  io.signal?.addEventListener('abort', () => void server.close())
  if (io.signal?.aborted) void server.close()
  await server.closed
  return 0
}

function parseMode(text: string): number {
  if (!/^0?[0-7]{3}$/.test(text))
    throw new TsgiError('ERR_USAGE', `--socket-mode must be octal like 0660, got ${JSON.stringify(text)}`)
  return parseInt(text, 8)
}

function parseBytes(text: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text)
  if (!match) throw new TsgiError('ERR_USAGE', `--max-body must be bytes like 10m, got ${JSON.stringify(text)}`)
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[match[2]!.toLowerCase() as '' | 'k' | 'm' | 'g']
  return Number(match[1]) * unit
}
