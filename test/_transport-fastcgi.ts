// The FastCGI transport (our client against a running responder), and a child process serving on an
// inherited fd-0 listening socket, as spawn-fcgi and mod_fcgid start one.
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type Server } from 'node:net'
import { FastcgiClient } from '../src/hosts/fastcgi/client.js'
import { cgiVars, cleanEnv, lower } from './_transport-cgi.js'
import type { ConfRequest, ConfResponse, Transport } from './_transports.js'

export async function fastcgiTransport(name: string, address: string, stop: () => Promise<void>): Promise<Transport> {
  const client = new FastcgiClient({ address })
  const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
    const controller = new AbortController()
    const params = cgiVars(request, '/app')
    const response = await client.request({
      params,
      body: request.body ?? new Uint8Array(0),
      signal: controller.signal,
    })
    const chunks: Uint8Array[] = []
    let complete = true
    try {
      for await (const chunk of response.body) {
        chunks.push(chunk)
        request.onData?.(Buffer.from(chunk))
        if (abandon) controller.abort()
      }
    } catch {
      complete = false
    }
    const end = await response.end.catch(() => undefined)
    return {
      status: response.status,
      headers: lower(response.headers),
      body: Buffer.concat(chunks),
      complete: complete && end !== undefined,
      stderr: await response.stderr,
    }
  }
  return {
    name,
    caps: { localRedirect: 'location', scriptName: '/app', multiprocess: true, runOnce: false, headerCap: true },
    send: (request) => run(request, false),
    abandon: async (request) => void (await run(request, true)),
    connections: () => client.stats.connections,
    close: async () => {
      // A request still in flight (a check that failed on a hung response) is cut off after a grace period.
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(() => resolve(client.destroy()), 2000)
      })
      await Promise.race([client.close(), grace])
      clearTimeout(timer)
      await stop()
    },
  }
}

/**
 * A child serving on fd 0 (FastCGI spec §2.2), handed a listening socket as spawn-fcgi and mod_fcgid do:
 * the socket is created here, dup'ed onto the child's stdin, and closed here.
 */
export async function spawnOnFd0(
  command: string[],
  env: Record<string, string> = cleanEnv(),
): Promise<{ child: ChildProcess; address: string; stderr: () => string }> {
  const listener: Server = createServer()
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve))
  const port = (listener.address() as { port: number }).port
  const fd = (listener as unknown as { _handle: { fd: number } })._handle.fd
  const child = spawn(command[0]!, command.slice(1), { env, stdio: [fd, 'ignore', 'pipe'] })
  listener.close()
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  return { child, address: `127.0.0.1:${port}`, stderr: () => stderr }
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
