// Decode throughput of the sans-IO FastCGI codec (src/protocol/fastcgi): STDIN MB/s with 64 KiB
// records, and PARAMS blocks/s for a typical nginx request. Median of several rounds, indicative only.
// Run: npx tsx bench/parser.ts   (env: ROUNDS=7, ROUND_MS=300)
import { availableParallelism, cpus } from 'node:os'
import {
  ApplicationConnection,
  encodeParams,
  encodeRecord,
  NEED_DATA,
  type Padding,
  ParamsDecoder,
  RecordType,
  WebServerConnection,
} from '../src/protocol/fastcgi/index.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const ROUND_MS = Number(process.env.ROUND_MS ?? 300)

/** A typical nginx 1.22 PARAMS block: Debian fastcgi_params plus a browser's headers (~20 pairs). */
const NGINX_PARAMS: Array<[string, string]> = [
  ['QUERY_STRING', 'page=2&sort=desc'],
  ['REQUEST_METHOD', 'GET'],
  ['CONTENT_TYPE', ''],
  ['CONTENT_LENGTH', ''],
  ['SCRIPT_NAME', '/app/index'],
  ['REQUEST_URI', '/app/index?page=2&sort=desc'],
  ['DOCUMENT_URI', '/app/index'],
  ['DOCUMENT_ROOT', '/var/www/html'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['REQUEST_SCHEME', 'http'],
  ['GATEWAY_INTERFACE', 'CGI/1.1'],
  ['SERVER_SOFTWARE', 'nginx/1.22.1'],
  ['REMOTE_ADDR', '127.0.0.1'],
  ['REMOTE_PORT', '53144'],
  ['SERVER_ADDR', '127.0.0.1'],
  ['SERVER_PORT', '8080'],
  ['SERVER_NAME', 'localhost'],
  ['REDIRECT_STATUS', '200'],
  ['HTTP_HOST', 'localhost'],
  ['HTTP_USER_AGENT', 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'],
  ['HTTP_ACCEPT', 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'],
]

interface Result {
  name: string
  unit: string
  median: number
  min: number
  max: number
}

/** Run `work` (returning units done) repeatedly for ROUND_MS, ROUNDS times; rates per second. */
function measure(name: string, unit: string, work: () => number): Result {
  for (let i = 0; i < 50; i++) work() // warm up
  const rates: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let units = 0
    const start = performance.now()
    let elapsed = 0
    while (elapsed < ROUND_MS) {
      units += work()
      elapsed = performance.now() - start
    }
    rates.push((units * 1000) / elapsed)
  }
  rates.sort((a, b) => a - b)
  return { name, unit, median: rates[rates.length >> 1]!, min: rates[0]!, max: rates.at(-1)! }
}

/** A connection with request 1 past its PARAMS, ready for STDIN. */
function stdinReady(): ApplicationConnection {
  const conn = new ApplicationConnection()
  conn.receiveData(new Uint8Array([1, 1, 0, 1, 0, 8, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 4, 0, 1, 0, 0, 0, 0]))
  while (conn.nextEvent() !== NEED_DATA);
  return conn
}

/** STDIN: `total` bytes as records of `recordSize` (+ padding), fed in chunks of `chunkSize`. */
function stdinBench(name: string, recordSize: number, padding: Padding, chunkSize: number): Result {
  const total = 4 * 1024 * 1024
  const record = encodeRecord(RecordType.Stdin, 1, new Uint8Array(recordSize).fill(0x61), padding)
  const count = Math.floor(total / recordSize)
  const stream = new Uint8Array(record.length * count)
  for (let i = 0; i < count; i++) stream.set(record, i * record.length)
  const chunks: Uint8Array[] = []
  for (let at = 0; at < stream.length; at += chunkSize) chunks.push(stream.subarray(at, at + chunkSize))
  const conn = stdinReady()
  const payload = recordSize * count
  return measure(name, 'MB/s', () => {
    let got = 0
    for (const chunk of chunks) {
      conn.receiveData(chunk)
      for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) {
        if (e.type === 'stdin') got += e.data.length
      }
    }
    if (got !== payload) throw new Error(`decoded ${got} of ${payload} bytes`)
    return payload / 1e6
  })
}

/** The bytes nginx sends for one GET with KEEP_CONN: BEGIN, PARAMS (padded), empty PARAMS/STDIN. */
function nginxRequest(): { bytes: Uint8Array; block: Uint8Array } {
  const client = new WebServerConnection({ padding: 'align8' })
  client.beginRequest(1, 1, true)
  client.params(1, NGINX_PARAMS)
  client.endParams(1)
  client.endStdin(1)
  return { bytes: client.takeOutputBytes(), block: encodeParams(NGINX_PARAMS) }
}

function paramsBench(): Result[] {
  const { bytes, block } = nginxRequest()
  const decodeOnly = measure(
    `PARAMS block decode (${NGINX_PARAMS.length} pairs, ${block.length} B)`,
    'blocks/s',
    () => {
      for (let i = 0; i < 100; i++) {
        const decoder = new ParamsDecoder()
        decoder.push(block)
        if (decoder.end().length !== NGINX_PARAMS.length) throw new Error('bad decode')
      }
      return 100
    },
  )
  const conn = new ApplicationConnection()
  const body = new TextEncoder().encode('Content-Type: text/plain\r\n\r\nHello, World!\n')
  const cycle = measure(
    `request cycle on a kept connection (${bytes.length} B in, respond, takeOutput)`,
    'requests/s',
    () => {
      for (let i = 0; i < 100; i++) {
        conn.receiveData(bytes)
        let params = 0
        for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) {
          if (e.type === 'request') params = e.params.length
        }
        if (params !== NGINX_PARAMS.length) throw new Error('no request event')
        conn.stdout(1, body)
        conn.endRequest(1)
        if (conn.takeOutput().length !== 1) throw new Error('output not coalesced')
      }
      return 100
    },
  )
  return [decodeOnly, cycle]
}

function main(): void {
  const cpu = cpus()[0]?.model ?? 'unknown cpu'
  console.log(
    `node ${process.version}, ${availableParallelism()} cpus (${cpu}), ${ROUNDS} rounds of ${ROUND_MS} ms, median [min..max]`,
  )
  const results = [
    stdinBench('STDIN 65535-B records, 1 MiB chunks (zero copy)', 65535, 'none', 1 << 20),
    stdinBench('STDIN 65535-B records, 64 KiB socket chunks (straddling: one copy)', 65535, 'none', 65536),
    stdinBench('STDIN 32768-B records padded to 8 (nginx), 64 KiB chunks', 32768, 'align8', 65536),
    ...paramsBench(),
  ]
  const width = Math.max(...results.map((r) => r.name.length))
  for (const r of results) {
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
    console.log(`${r.name.padEnd(width)}  ${fmt(r.median).padStart(10)} ${r.unit}  [${fmt(r.min)}..${fmt(r.max)}]`)
  }
}

main()
