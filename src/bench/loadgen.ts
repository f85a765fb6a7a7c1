// Closed-loop load generator: N kept connections, one request at a time each, pre-encoded request bytes;
// FastCGI and HTTP differ only in bytes and detector. Runs in a process of its own (loadgen-process.ts).
import { connect, type Socket } from 'node:net'
import { cpuMs, reapedCpuMs } from './proc-stats.js'
import { Latencies } from './stats.js'
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
  /** bulk: one large transfer (bench/fastcgi/loadgen.ts). */
  mode: 'loop' | 'bulk'
  spec: RequestSpec
  target: { path: string } | { host: string; port: number }
  conns: number
  warmupMs: number
  durationMs: number
  /** Loop: the window runs on past durationMs until this many responses came (at most `stallMs` more). */
  minRequests?: number
  /** A request unanswered this long at the end of the window counts as stalled; default 1000 ms. */
  stallMs?: number
  /** Processes whose utime+stime is read at the window edges (the server under test, nginx). */
  pids: number[]
  /** Processes whose reaped children's CPU (cutime+cstime) is read at the window edges. */
  reaped?: number[]
  /** At the end of the window, drop the requests still in flight instead of waiting for them. */
  dropInFlight?: boolean
  /** Bulk mode: the body is sent as this many repeats of a chunk (bodyBytes / repeat each). */
  repeat?: number
  /** Expected status prefix, e.g. "200"; '' takes any. */
  expectStatus: string
  /** Expected body prefix of the first response (checked once per connection). */
  expectBody?: string
  /** Return this many latency quantiles (evenly spaced) for plotting. */
  samplePoints?: number
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
  /** cutime+cstime delta per pid (see GenConfig.reaped), milliseconds. */
  reapedCpuMs: Record<string, number>
  responseBytes: number
  firstStatus: string
  /** Latency quantiles in µs, ascending, when samplePoints was given. */
  sample?: number[]
}

/**
 * Connects with `onread`: every read lands in one buffer reused for the connection's life (no Buffer
 * per read, reads up to 256 KiB), so the generator stays cheaper than the servers it drives.
 * `onData` gets a view valid only during the call.
 */
export function open(config: GenConfig, onData: (chunk: Buffer) => void): Socket {
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

/** Validates the first response of a connection; returns its status line. */
export function check(config: GenConfig, bytes: Uint8Array): string {
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

/** CPU meters read at the window edges: the generator's own, each pid's, each tree's. */
export function meters(config: GenConfig) {
  const read = () => ({
    gen: process.cpuUsage(),
    pids: config.pids.map(safe(cpuMs)),
    reaped: (config.reaped ?? []).map(safe(reapedCpuMs)),
  })
  const start = read()
  return () => {
    const end = read()
    const gen = process.cpuUsage(start.gen)
    const delta = (ids: number[], a: number[], b: number[]) =>
      Object.fromEntries(ids.map((id, i) => [id, b[i]! - a[i]!]))
    return {
      genCpuMs: (gen.user + gen.system) / 1000,
      pidCpuMs: delta(config.pids, start.pids, end.pids),
      reapedCpuMs: delta(config.reaped ?? [], start.reaped, end.reaped),
    }
  }
}

function safe(read: (pid: number) => number): (pid: number) => number {
  return (pid) => {
    try {
      return read(pid)
    } catch {
      return NaN
    }
  }
}

export function loop(config: GenConfig): Promise<GenResult> {
  const { warmupMs, durationMs, stallMs = 1000 } = config
  const head = encodeHead(config.spec)
  const body = config.spec.bodyBytes ? encodeBodyChunk(config.spec, config.spec.bodyBytes) : undefined
  // FastCGI without FCGI_KEEP_CONN: the responder closes after each response, so each request gets a new connection.
  const oneShot = config.spec.keepConn === false
  const lat = new Latencies()
  const sockets = new Set<Socket>()
  const waiting = new Map<Socket, number>() // socket -> time its request was sent
  const s = { completed: 0, errors: 0, mismatched: 0, responseBytes: 0, firstStatus: '', expected: -1 }
  let measuring = false
  let lingering = false
  let stopping = false
  let result: GenResult | undefined
  let endWindow = (): void => {}

  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      stopping = true
      for (const socket of sockets) socket.destroy()
      reject(err)
    }
    const finish = (): void => {
      if (result === undefined) return
      for (const socket of sockets) socket.destroy()
      resolve(result)
      result = undefined
    }
    const client = (): void => {
      const detector: EndDetector = config.spec.kind === 'fcgi' ? fcgiDetector() : httpDetector()
      let first: Uint8Array[] | undefined = s.expected < 0 || oneShot ? [] : undefined
      let answered = false
      let retired = false
      const onData = (chunk: Buffer): void => {
        first?.push(Buffer.from(chunk)) // copied: the read buffer is reused
        let complete: boolean
        try {
          complete = detector.push(chunk)
        } catch (err) {
          fail(err as Error)
          return
        }
        if (!complete) return
        const sentAt = waiting.get(socket)!
        waiting.delete(socket)
        answered = true
        if (first !== undefined) {
          try {
            s.firstStatus = check(config, Buffer.concat(first))
          } catch (err) {
            fail(err as Error)
            return
          }
          first = undefined
          if (s.expected < 0) s.expected = detector.bytes
        }
        if (detector.bytes !== s.expected) s.mismatched++
        if (measuring) {
          s.completed++
          s.responseBytes += detector.bytes
          lat.add((performance.now() - sentAt) * 1000)
          if (lingering && s.completed >= (config.minRequests ?? 0)) endWindow()
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
        s.errors++
        if (waiting.delete(socket)) client() // replace a connection the server dropped mid-request
      })
    }
    let t0 = 0
    let meter: ReturnType<typeof meters> | undefined
    setTimeout(() => {
      measuring = true
      t0 = performance.now()
      meter = meters(config)
    }, warmupMs).unref()
    endWindow = () => {
      if (stopping) return
      measuring = false
      stopping = true
      const now = performance.now()
      const seconds = (now - t0) / 1000
      // A request unanswered for over `stallMs` at the end of the window is stuck, not slow.
      let stalled = 0
      for (const sentAt of waiting.values()) if (now - sentAt > stallMs) stalled++
      result = summary(s, lat, seconds, stalled, meter!(), config.samplePoints)
      if (waiting.size === 0 || config.dropInFlight === true) finish()
      // Let requests in flight finish so the server sees clean closes, but never wait long.
      else setTimeout(finish, stalled > 0 ? 0 : Math.max(2000, stallMs)).unref()
    }
    setTimeout(() => {
      if (s.completed >= (config.minRequests ?? 0)) return endWindow()
      lingering = true
      setTimeout(endWindow, stallMs).unref()
    }, warmupMs + durationMs).unref()
    for (let i = 0; i < config.conns; i++) client()
  })
}

export function summary(
  s: { completed: number; errors: number; mismatched: number; responseBytes: number; firstStatus: string },
  lat: Latencies,
  seconds: number,
  stalled: number,
  cpu: Pick<GenResult, 'genCpuMs' | 'pidCpuMs' | 'reapedCpuMs'>,
  samplePoints: number | undefined,
): GenResult {
  return {
    requests: s.completed,
    seconds,
    rps: s.completed / seconds,
    p50us: lat.quantile(0.5),
    p99us: lat.quantile(0.99),
    errors: s.errors,
    mismatched: s.mismatched,
    stalled,
    ...cpu,
    responseBytes: s.responseBytes,
    firstStatus: s.firstStatus,
    ...(samplePoints === undefined ? {} : { sample: lat.points(samplePoints) }),
  }
}
