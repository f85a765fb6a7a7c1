// The conformance transports through `tsgi front` (src/front): over HTTP to the front, which runs the app
// as a CGI script per request (/cgi-bin/app) or forwards to a FastCGI responder on a Unix socket (/fcgi).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Front, startFront } from '../src/front/index.js'
import { serveFastcgi } from '../src/gateways/fastcgi/index.js'
import { bundlesOf } from './_bundles.js'
import { httpExchange } from './_transport-dev-server.js'
import type { AppSpec, Capabilities, ConfRequest, ConfResponse, Transport, TransportFactory } from './_transports.js'

/** A front with `app` as the CGI script cgi-bin/app and behind /fcgi; `stderr` collects the front's error log. */
export async function startAppFront(
  spec: AppSpec,
): Promise<{ front: Front; stderr: { text: string }; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-front-'))
  const cgiBin = join(dir, 'cgi-bin')
  mkdirSync(cgiBin)
  const { cgi } = await bundlesOf(spec)
  writeFileSync(join(cgiBin, 'app'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(cgi)}\n`)
  chmodSync(join(cgiBin, 'app'), 0o755)
  const responder = await serveFastcgi(spec.app, { listen: join(dir, 'app.sock'), log: () => {} })
  const stderr = { text: '' }
  const front = await startFront({
    port: 0,
    cgiBin,
    fastcgi: [{ prefix: '/fcgi', address: responder.address }],
    log: false,
    // What scripts and apps wrote, without the front's `cgi SCRIPT: ` / `fcgi PREFIX: ` source prefix.
    errors: (line) => {
      stderr.text += `${line.replace(/^f?cgi \S+: /, '')}\n`
    },
  })
  const stop = async (): Promise<void> => {
    await front.close()
    await responder.close()
    rmSync(dir, { recursive: true, force: true })
  }
  return { front, stderr, stop }
}

const CGI_CAPS: Capabilities = {
  localRedirect: 'dispatch',
  scriptName: '/cgi-bin/app',
  multiprocess: true,
  runOnce: true,
  headerCap: false,
  // The front never passes a Proxy header on as HTTP_PROXY, to a script or a responder (httpoxy, S-01).
  dropsProxyHeader: true,
}
const FCGI_CAPS: Capabilities = {
  localRedirect: 'dispatch',
  scriptName: '/fcgi',
  multiprocess: true,
  runOnce: false,
  headerCap: true,
  dropsProxyHeader: true,
}

/** The front serving `spec` by `path` ('cgi' or 'fastcgi'), as a conformance transport. */
export function frontFactory(name: string, spec: AppSpec, path: 'cgi' | 'fastcgi'): TransportFactory {
  return {
    name,
    async start(): Promise<Transport> {
      const { front, stderr, stop } = await startAppFront(spec)
      const caps = path === 'cgi' ? CGI_CAPS : FCGI_CAPS
      const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
        stderr.text = ''
        const response = await httpExchange(front.port, caps.scriptName, request, abandon)
        await new Promise((resolve) => setTimeout(resolve, 20)) // the script's last stderr lines
        return { ...response, stderr: stderr.text }
      }
      return {
        name,
        caps,
        send: (request) => run(request, false),
        abandon: async (request) => void (await run(request, true)),
        ...(path === 'fastcgi' ? { connections: () => front.clients.get('/fcgi')?.stats.connections ?? 0 } : {}),
        close: stop,
      }
    },
  }
}
