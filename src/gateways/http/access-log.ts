// One access-log line per request, Common Log Format plus the time taken:
// `127.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET /a?b HTTP/1.1" 200 13 0.8ms`.

export interface AccessEntry {
  remoteAddress: string | undefined
  method: string
  /** The request-target as sent. */
  uri: string
  httpVersion: string
  /** 0 when no status was sent (the client left first). */
  status: number
  bytes: number
  ms: number
  aborted: boolean
  date?: Date
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export function formatAccessLog(entry: AccessEntry): string {
  const request = `${entry.method} ${entry.uri} HTTP/${entry.httpVersion}`
  // CLF writes `-` for "none" in the status and byte columns.
  const status = entry.status === 0 ? '-' : String(entry.status)
  const bytes = entry.bytes === 0 ? '-' : String(entry.bytes)
  const tail = entry.aborted ? ' aborted' : ''
  return (
    `${entry.remoteAddress ?? '-'} - - [${clfDate(entry.date ?? new Date())}] "${escapeText(request)}" ` +
    `${status} ${bytes} ${entry.ms.toFixed(1)}ms${tail}`
  )
}

/** `10/Oct/2000:13:55:36 +0000` (UTC). */
function clfDate(d: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0')
  return (
    `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  )
}

/** Control characters, quotes, backslashes and non-ASCII become \xNN, so a URI cannot forge log lines. */
function escapeText(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
