// Closed-loop HTTP load through a real web server: clients on kept-alive connections, one GET after
// another, every outcome kept with its times (an error as status 0) and the pid that served it.
import { Agent, request as httpRequest } from 'node:http'

export interface Sample {
  start: number
  end: number
  status: number
  pid?: number
  body?: string
  error?: string
}

/** A POST instead of a GET: its form body. */
export interface Post {
  body: string
}

/** GET (or POST) `path` on a kept-alive connection of `agent`; `pid` from a JSON body's pid or a `pid N` text. */
export function get(
  agent: Agent,
  port: number,
  path: string,
  localAddress?: string,
  post?: Post,
): Promise<{ status: number; pid?: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers = post === undefined ? {} : { 'Content-Type': 'application/x-www-form-urlencoded' }
    const method = post === undefined ? 'GET' : 'POST'
    const options = { host: '127.0.0.1', port, path, agent, method, headers, ...(localAddress ? { localAddress } : {}) }
    const req = httpRequest(options, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        const pid = pidOf(body)
        resolve({ status: res.statusCode ?? 0, body, ...(pid === undefined ? {} : { pid }) })
      })
      res.on('error', reject)
    })
    req.setTimeout(5000, () => req.destroy(new Error('no response within 5 s')))
    req.on('error', reject)
    req.end(post?.body)
  })
}

function pidOf(body: string): number | undefined {
  try {
    const pid = (JSON.parse(body) as { pid?: number }).pid
    if (typeof pid === 'number') return pid
  } catch {
    // not JSON: a text answer, or the web server's own error page
  }
  const match = /\bpid (\d+)/.exec(body)
  return match === null ? undefined : Number(match[1])
}

/** One client of the closed loop: GET (or POST) `path` until `until`, each outcome pushed to `samples`. */
export async function client(
  port: number,
  path: string,
  until: () => boolean,
  samples: Sample[],
  post?: Post,
): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  try {
    while (!until()) {
      const start = Date.now()
      try {
        const { status, pid, body } = await get(agent, port, path, undefined, post)
        samples.push({
          start,
          end: Date.now(),
          status,
          ...(pid === undefined ? {} : { pid }),
          body: body.slice(0, 200),
        })
      } catch (err) {
        samples.push({ start, end: Date.now(), status: 0, error: (err as Error).message })
      }
    }
  } finally {
    agent.destroy()
  }
}
