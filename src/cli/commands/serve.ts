// `tsgi serve`: the dev server until SIGINT/SIGTERM (or the caller's signal). The first stop closes it
// gracefully; a second one cuts the connections still open.
import type { App } from '../../app.js'
import { serve } from '../../gateways/http/index.js'
import { type Command, EXPORT_OPTION, loadOptions, str, usage } from '../command.js'
import { loadApp } from '../load.js'

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
  let stops = 0
  let stopped: () => void = () => {}
  const firstStop = new Promise<void>((resolve) => (stopped = resolve))
  const onStop = (): void => {
    stops++
    if (stops === 1) stopped()
    else server.server.closeAllConnections()
  }
  process.on('SIGINT', onStop)
  process.on('SIGTERM', onStop)
  io.signal?.addEventListener('abort', onStop)
  if (io.signal?.aborted) onStop()
  try {
    await firstStop
    io.stderr('tsgi: stopping (press Ctrl-C again to cut open connections)\n')
    await server.close()
    return 0
  } finally {
    process.off('SIGINT', onStop)
    process.off('SIGTERM', onStop)
    io.signal?.removeEventListener('abort', onStop)
  }
}

function parsePort(value: string | boolean | undefined): number {
  if (value === undefined) return 8000
  const port = typeof value === 'string' && /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN
  if (!(port <= 65535)) throw usage(`invalid --port ${JSON.stringify(value)} (expected 0 to 65535)`)
  return port
}
