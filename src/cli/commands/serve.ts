// `tsgi serve`: the dev server until SIGINT/SIGTERM (or the caller's signal). The first stop closes it
// gracefully; a second one cuts the connections still open.
import type { App } from '../../app.js'
import { serve } from '../../gateways/http/index.js'
import { type Command, EXPORT_OPTION, loadOptions, str, usage, type Values } from '../command.js'
import { loadApp } from '../load.js'
import { untilStopped } from '../until-stopped.js'

export const serveCommand: Command = {
  options: { ...EXPORT_OPTION, host: { type: 'string' }, port: { type: 'string' } },
  async run(appPath, values, io) {
    const port = parsePort(values.port)
    const app = await loadApp(appPath, loadOptions(values, io))
    return serveUntilStopped(app, { host: str(values.host) ?? '127.0.0.1', port, appPath }, io)
  },
}

export interface ServeCommandOptions {
  host: string
  port: number
  appPath: string
}

interface Io {
  stdout: (text: string) => void
  stderr: (text: string) => void
  signal?: AbortSignal
}

export async function serveUntilStopped(app: App, options: ServeCommandOptions, io: Io): Promise<number> {
  const server = await serve(app, {
    host: options.host,
    port: options.port,
    log: (line) => io.stderr(`${line}\n`),
    errors: { write: (message) => io.stderr(message) },
  })
  io.stdout(`tsgi: serving ${options.appPath} on ${server.url} (Ctrl-C to stop)\n`)
  return untilStopped(server, io)
}

export function parsePort(value: Values[string], fallback = 8000): number {
  if (value === undefined) return fallback
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN
  if (!(port <= 65535)) throw usage(`invalid --port ${JSON.stringify(value)} (expected 0 to 65535)`)
  return port
}
