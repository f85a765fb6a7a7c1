// The first request of a row, before anything is timed: what it answers, and whether that is an answer
// at all (a 5xx means the row is broken, not slow).
import { request } from 'node:http'

/** GET `path` on 127.0.0.1:`port`; the status code, or why the row cannot be measured. */
export function probe(port: number, path: string, timeoutMs = 60_000): Promise<{ status: string } | { skip: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        if (body.length < 2000) body += chunk
      })
      res.on('end', () => {
        const status = res.statusCode ?? 0
        if (status < 500) return resolve({ status: String(status) })
        const first = body.trim().split('\n')[0]?.slice(0, 200) ?? ''
        resolve({ skip: `answered ${status}${first === '' ? '' : `: ${first}`}` })
      })
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)))
    req.on('error', (error) => resolve({ skip: `request failed: ${error.message}` }))
    req.end()
  })
}
