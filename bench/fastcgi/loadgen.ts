// Closed-loop load generator, run as its own process (compiled by the bench): N kept connections, one
// request at a time each, pre-encoded request bytes. FastCGI and HTTP differ only in bytes and detector.
// Usage: node loadgen.mjs '<GenConfig JSON>'; prints one JSON GenResult line on stdout.
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import {
  decodeFcgiResponse,
  decodeHttpResponse,
  type EndDetector,
  encodeBodyChunk,
  encodeHead,
  fcgiDetector,
  httpDetector,
  type RequestSpec,
} from './wire.js'

export interface GenConfig {
  mode: 'loop' | 'bulk'
  spec: RequestSpec
  target: { path: string } | { host: string; port: number }
  conns: number
  warmupMs: number
  durationMs: number
  /** Processes whose utime+stime is read at the window edges (the server under test, nginx). */
  pids: number[]
  /** Bulk mode: the body is sent as this many repeats of a chunk (bodyBytes / repeat each). */
  repeat?: number
  /** Expected status prefix, e.g. "200". */
  expectStatus: string
  /** Expected body prefix of the first response (checked once per connection). */
  expectBody?: string
}

export interface GenResult {
  requests: number
  seconds: number
  rps: number
  p50us: number
  p99us: number
  errors: number
  mismatched: number
  /** Requests still unanswered more than a second after they were sent, at the end of the window. */
  stalled: number
  genCpuMs: number
  /** utime+stime delta per pid, milliseconds. */
  pidCpuMs: Record<string, number>
  responseBytes: number
  firstStatus: string
}

const TICK_MS = 10 // USER_HZ is 100 on Linux

function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS // utime, stime (fields 14, 15)
  } catch {
    return NaN
  }
}

class Latencies {
  data = new Float64Array(1 << 16)
  n = 0
  add(us: number): void {
    if (this.n === this.data.length) {
      const bigger = new Float64Array(this.n * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.n++] = us
  }
  quantile(q: number): number {
    if (this.n === 0) return NaN
    const sorted = this.data.subarray(0, this.n).sort()
    return sorted[Math.min(this.n - 1, Math.floor(q * this.n))]!
  }
}

/**
 * Connects with `onread`: every read lands in one buffer reused for the connection's life (no Buffer
 * per read, reads up to 256 KiB), so the generator stays cheaper than the servers it drives.
 * `onData` gets a view valid only during the call.
 */
function open(config: GenConfig, onData: (chunk: Buffer) => void): Socket {
  const onread = {
    buffer: Buffer.allocUnsafe(256 * 1024),
    callback: (n: number, buf: Uint8Array): boolean => {
      onData((buf as Buffer).subarray(0, n))
      return true
    },
  }
  const socket =
    'path' in config.target
      ? connect({ path: config.target.path, onread })
      : connect({ port: config.target.port, host: config.target.host, onread })
  socket.setNoDelay(true)
  return socket
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as GenConfig
  const result = config.mode === 'bulk' ? await bulk(config) : await loop(config)
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/** Validates the first response of a connection; returns its status line. */
function check(config: GenConfig, bytes: Uint8Array): string {
  const { status, body } = config.spec.kind === 'fcgi' ? decodeFcgiResponse(bytes) : decodeHttpResponse(bytes)
  if (!status.startsWith(config.expectStatus))
    throw new Error(`bench: expected status ${config.expectStatus}, got ${JSON.stringify(status)}`)
  if (config.expectBody !== undefined && !body.startsWith(config.expectBody)) {
    throw new Error(
      `bench: expected body ${JSON.stringify(config.expectBody)}, got ${JSON.stringify(body.slice(0, 200))}`,
    )
  }
  return status
}

function loop(config: GenConfig): Promise<GenResult> {
  const head = encodeHead(config.spec)
  const body = config.spec.bodyBytes ? encodeBodyChunk(config.spec, config.spec.bodyBytes) : undefined
  // FastCGI without FCGI_KEEP_CONN: the responder closes after each response, so each request gets a new connection.
  const oneShot = config.spec.keepConn === false
  const lat = new Latencies()
  const sockets = new Set<Socket>()
  const waiting = new Map<Socket, number>() // socket -> time its request was sent
  let completed = 0
  let errors = 0
  let mismatched = 0
  let responseBytes = 0
  let firstStatus = ''
  let expected = -1
  let measuring = false
  let stopping = false
  let result: GenResult | undefined

  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      stopping = true
      for (const s of sockets) s.destroy()
      reject(err)
    }
    const finish = (): void => {
      if (result === undefined) return
      for (const s of sockets) s.destroy()
      resolve(result)
      result = undefined
    }
    const client = (): void => {
      const detector: EndDetector = config.spec.kind === 'fcgi' ? fcgiDetector() : httpDetector()
      let first: Uint8Array[] | undefined = expected < 0 || oneShot ? [] : undefined
      let answered = false
      let retired = false
      const onData = (chunk: Buffer): void => {
        first?.push(Buffer.from(chunk)) // copied: the read buffer is reused
        if (!detector.push(chunk)) return
        const sentAt = waiting.get(socket)!
        waiting.delete(socket)
        answered = true
        if (first !== undefined) {
          try {
            firstStatus = check(config, Buffer.concat(first))
          } catch (err) {
            fail(err as Error)
            return
          }
          first = undefined
          if (expected < 0) expected = detector.bytes
        }
        if (detector.bytes !== expected) mismatched++
        if (measuring) {
          completed++
          responseBytes += detector.bytes
          lat.add((performance.now() - sentAt) * 1000)
        }
        if (oneShot) {
          retired = true
          socket.destroy()
          sockets.delete(socket)
          if (!stopping) client()
        } else if (!stopping) send()
        if (stopping && waiting.size === 0) finish()
      }
      const socket = open(config, onData)
      sockets.add(socket)
      const send = (): void => {
        waiting.set(socket, performance.now())
        if (body === undefined) {
          socket.write(head)
          return
        }
        socket.cork()
        socket.write(head)
        socket.write(body.chunk)
        if (body.tail.length > 0) socket.write(body.tail)
        socket.uncork()
      }
      socket.on('connect', send)
      socket.on('error', () => {})
      socket.on('close', () => {
        sockets.delete(socket)
        if (retired || stopping) return
        if (!answered)
          return fail(
            new Error(`bench: connection to ${JSON.stringify(config.target)} closed before its first response`),
          )
        errors++
        if (waiting.delete(socket)) client() // replace a connection the server dropped mid-request
      })
    }
    let t0 = 0
    let cpu0 = process.cpuUsage()
    const pid0: number[] = []
    setTimeout(() => {
      measuring = true
      t0 = performance.now()
      cpu0 = process.cpuUsage()
      for (const pid of config.pids) pid0.push(cpuMs(pid))
    }, config.warmupMs).unref()
    setTimeout(() => {
      measuring = false
      stopping = true
      const now = performance.now()
      const seconds = (now - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      const pidCpuMs: Record<string, number> = {}
      config.pids.forEach((pid, i) => {
        pidCpuMs[pid] = cpuMs(pid) - pid0[i]!
      })
      // A request unanswered for over a second at the end of the window is stuck, not slow.
      let stalled = 0
      for (const sentAt of waiting.values()) if (now - sentAt > 1000) stalled++
      result = {
        requests: completed,
        seconds,
        rps: completed / seconds,
        p50us: lat.quantile(0.5),
        p99us: lat.quantile(0.99),
        errors,
        mismatched,
        stalled,
        genCpuMs: (cpu.user + cpu.system) / 1000,
        pidCpuMs,
        responseBytes,
        firstStatus,
      }
      if (waiting.size === 0) finish()
      // Let requests in flight finish so the server sees clean closes, but never wait long.
      else setTimeout(finish, stalled > 0 ? 0 : 2000).unref()
    }, config.warmupMs + config.durationMs).unref()
    for (let i = 0; i < config.conns; i++) client()
  })
}

/** One request with a large body streamed from a reused chunk (upload), or a large response read and dropped. */
async function bulk(config: GenConfig): Promise<GenResult> {
  const head = encodeHead(config.spec)
  const repeat = config.repeat ?? 1
  const body = config.spec.bodyBytes ? encodeBodyChunk(config.spec, config.spec.bodyBytes / repeat) : undefined
  const detector: EndDetector = config.spec.kind === 'fcgi' ? fcgiDetector() : httpDetector()
  const firstBytes: Buffer[] = []
  let captured = 0
  let onEnd = (): void => {}
  const socket = open(config, (chunk) => {
    if (captured < 65536) {
      firstBytes.push(Buffer.from(chunk.subarray(0, 65536 - captured)))
      captured += chunk.length
    }
    if (detector.push(chunk)) onEnd()
  })
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const pid0 = config.pids.map(cpuMs)
  const done = new Promise<void>((resolve, reject) => {
    onEnd = resolve
    socket.once('close', () => reject(new Error('bench: connection closed before the response ended')))
  })
  socket.write(head)
  if (body !== undefined) {
    for (let i = 0; i < repeat; i++) {
      if (!socket.write(body.chunk)) await new Promise((resolve) => socket.once('drain', resolve))
    }
    socket.write(body.tail)
  }
  await done.finally(() => socket.destroy())
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const pidCpuMs: Record<string, number> = {}
  config.pids.forEach((pid, i) => {
    pidCpuMs[pid] = cpuMs(pid) - pid0[i]!
  })
  const firstStatus = check(config, Buffer.concat(firstBytes))
  return {
    requests: 1,
    seconds,
    rps: 1 / seconds,
    p50us: seconds * 1e6,
    p99us: seconds * 1e6,
    errors: 0,
    mismatched: 0,
    stalled: 0,
    genCpuMs: (cpu.user + cpu.system) / 1000,
    pidCpuMs,
    responseBytes: detector.bytes,
    firstStatus,
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
