// The gateways in a process of another runtime (Bun, Deno): the CGI script and the fd-0 responder bundles
// run by it, and the `tsgi` command under it: `fastcgi` on TCP and a Unix socket, `serve` (the dev server).
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { APP_PATH, bundlesOf, ROOT } from './_bundles.js'
import type { Runtime } from './_runtimes.js'
import { cgiFactory, cleanEnv } from './_transport-cgi.js'
import { httpExchange } from './_transport-dev-server.js'
import { exited, fastcgiTransport, spawnOnFd0 } from './_transport-fastcgi.js'
import type { ConfRequest, ConfResponse, TransportFactory } from './_transports.js'
import conformanceApp from './fixtures/conformance-app.js'

const SPEC = { appPath: APP_PATH, app: conformanceApp }
const ROOT_FLAGS = process.getuid?.() === 0 ? ['--allow-root'] : []

/** CGI, FastCGI over TCP, a Unix socket and fd 0, and the dev server, each in a `runtime` process. */
export function runtimeTransports(runtime: Runtime): TransportFactory[] {
  const named = (what: string): string => `${what} on ${runtime.name}`
  const fastcgi = (what: string, listen: (dir: string) => string): TransportFactory => ({
    name: named(what),
    async start() {
      const dir = mkdtempSync(join(tmpdir(), 'tsgi-runtime-'))
      const { child, match } = await command(
        runtime,
        ['fastcgi', APP_PATH, '--listen', listen(dir), ...ROOT_FLAGS],
        /FastCGI responder on (\S+) /,
      )
      return fastcgiTransport(named(what), match[1]!, async () => {
        await stopChild(child)
        rmSync(dir, { recursive: true, force: true })
      })
    },
  })
  return [
    cgiFactory(named('CGI'), SPEC, runtime.argv),
    fastcgi('FastCGI over TCP', () => '127.0.0.1:0'),
    fastcgi('FastCGI over a Unix socket', (dir) => join(dir, 'app.sock')),
    {
      name: named('FastCGI on an inherited fd 0'),
      async start() {
        const { auto } = await bundlesOf(SPEC)
        const { child, address } = await spawnOnFd0([...runtime.argv, auto])
        return fastcgiTransport(named('FastCGI on an inherited fd 0'), address, () => stopChild(child))
      },
    },
    devServer(runtime, named('dev server')),
  ]
}

/** `tsgi serve APP --port 0` under the runtime; tsgi.errors arrive on its stderr. */
function devServer(runtime: Runtime, name: string): TransportFactory {
  return {
    name,
    async start() {
      const { child, match, stderr } = await command(
        runtime,
        ['serve', APP_PATH, '--port', '0'],
        /on http:\/\/127\.0\.0\.1:(\d+)/,
      )
      const port = Number(match[1])
      const sockets = new Set<unknown>()
      const run = async (request: ConfRequest, abandon: boolean): Promise<ConfResponse> => {
        const before = stderr().length
        const response = await httpExchange(port, '', request, abandon, { sockets })
        await new Promise((resolve) => setTimeout(resolve, 20)) // what the app logged on its way out
        return { ...response, stderr: stderr().slice(before) }
      }
      return {
        name,
        caps: { localRedirect: 'dispatch', scriptName: '', multiprocess: false, runOnce: false, headerCap: false },
        send: (request) => run(request, false),
        abandon: async (request) => void (await run(request, true)),
        connections: () => sockets.size,
        close: () => stopChild(child),
      }
    },
  }
}

/** `tsgi ARGS` under the runtime; resolves when its output matches `ready`. */
async function command(
  runtime: Runtime,
  args: string[],
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray; stderr: () => string }> {
  const child = spawn(runtime.argv[0]!, [...runtime.argv.slice(1), join(ROOT, 'bin/tsgi.js'), ...args], {
    env: cleanEnv(),
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString()
    stderr += chunk.toString()
  })
  const deadline = Date.now() + 20_000
  for (;;) {
    const match = ready.exec(output)
    if (match !== null) return { child, match, stderr: () => stderr }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${runtime.name}: tsgi ${args.join(' ')} did not start:\n${output.slice(-2000)}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited(child)
  clearTimeout(timer)
}
