// `npm start` (`tsgi demo`): a FastCGI responder for the hello app, the front on 127.0.0.1:8080 serving it
// at /fcgi/ and the checkout's cgi-bin/ at /cgi-bin/, and the page at / with its comparison endpoint.
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TsgiError } from '../errors.js'
import { compare } from './compare.js'
import { demoPage } from './demo-page.js'
import { type Front, startFront } from './server.js'

export interface DemoOptions {
  /** The package's root: examples/hello.ts, cgi-bin/ and bin/tsgi.js are found there. */
  root: string
  host?: string
  port?: number
  log?: (line: string) => void
}

export interface Demo {
  front: Front
  url: string
  /** The responder's pid (a process of its own, as behind nginx). */
  responderPid: number
  close(): Promise<void>
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const cgiBin = join(options.root, 'cgi-bin')
  if (!existsSync(join(cgiBin, 'dist', 'hello.cjs'))) {
    throw new TsgiError('ERR_USAGE', `demo: ${cgiBin}/dist/hello.cjs is missing: run \`npm run build\` first`)
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-demo-'))
  const socket = join(dir, 'hello.sock')
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`))
  const responder = await startResponder(options.root, socket, log)
  let front: Front
  try {
    front = await startFront({
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 8080,
      cgiBin,
      fastcgi: [{ prefix: '/fcgi', address: socket }],
      log: false,
      errors: log,
      fallback: (req, res) => page(req, res, () => front.url),
    })
  } catch (error) {
    await stop(responder)
    throw error
  }
  const close = async (): Promise<void> => {
    await front.close()
    await stop(responder)
    rmSync(dir, { recursive: true, force: true })
  }
  return { front, url: front.url, responderPid: responder.servingPid, close }
}

async function page(req: IncomingMessage, res: ServerResponse, url: () => string): Promise<boolean> {
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    send(res, 200, 'text/html; charset=utf-8', demoPage())
    return true
  }
  if (path === '/api/compare' && req.method === 'POST') {
    // Only the page itself may start a comparison: another site's page could POST here (CSRF).
    const origin = req.headers.origin
    if (origin !== undefined && origin !== url().replace(/\/$/, '') && origin !== `http://${req.headers.host}`) {
      send(res, 403, 'text/plain', 'Forbidden\n')
      return true
    }
    const result = await compare(url())
    send(res, 200, 'application/json', JSON.stringify(result))
    return true
  }
  return false
}

function send(res: ServerResponse, status: number, type: string, text: string): void {
  const body = Buffer.from(text)
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': body.byteLength, 'Cache-Control': 'no-store' })
  res.end(body)
}

/** `tsgi fastcgi examples/hello.ts --listen SOCKET` as a child; resolves once it listens. */
type Responder = ChildProcess & { servingPid: number }

function startResponder(root: string, socket: string, log: (line: string) => void): Promise<Responder> {
  const args = [join(root, 'bin', 'tsgi.js'), 'fastcgi', join(root, 'examples', 'hello.ts'), '--listen', socket]
  // A local demo: as root it keeps root rather than asking for a service user (README, "npm start").
  if (process.getuid?.() === 0) args.push('--allow-root')
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  return new Promise((resolve, reject) => {
    let text = ''
    child.stderr?.setEncoding('utf8')
    child.stderr?.on('data', (chunk: string) => {
      text += chunk
      // The pid the responder prints: on Node 20 bin/tsgi.js runs it as a child with its V8 flags.
      const ready = /FastCGI responder on .*\(pid (\d+)/.exec(text)
      if (ready) resolve(Object.assign(child, { servingPid: Number(ready[1]) }))
      for (const line of chunk.split('\n')) if (line.trim() !== '' && !line.includes('responder on')) log(line)
    })
    child.once('exit', (code) =>
      reject(new TsgiError('ERR_LISTEN', `demo: the FastCGI responder exited (${code}): ${text.trim()}`)),
    )
  })
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
}
