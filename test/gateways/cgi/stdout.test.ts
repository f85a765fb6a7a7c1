// StdoutSink on a real file descriptor: direct writes, the switch to a stream on EAGAIN (a non-blocking
// stdout), and EPIPE when the web server closed its end.
import { execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StdoutSink } from '../../../src/gateways/cgi/stdout.js'
import { Collector } from './_cgi.js'

let dir: string
let fds: number[]

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-stdout-'))
  fds = []
})

afterEach(() => {
  for (const fd of fds) closeSync(fd)
  rmSync(dir, { recursive: true, force: true })
})

/** A FIFO opened non-blocking at both ends: writes past the pipe's capacity fail with EAGAIN. */
function nonBlockingPipe(): { read: number; write: number } {
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
  const write = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
  fds.push(write)
  return { read, write }
}

function drain(fd: number): Buffer {
  const parts: Buffer[] = []
  const buf = Buffer.alloc(65536)
  for (;;) {
    let n: number
    try {
      n = readSync(fd, buf)
    } catch {
      break // EAGAIN: nothing more buffered
    }
    if (n === 0) break
    parts.push(Buffer.from(buf.subarray(0, n)))
  }
  return Buffer.concat(parts)
}

describe('StdoutSink on a file descriptor', () => {
  it('writes the head and body straight to the descriptor', async () => {
    const pipe = nonBlockingPipe()
    fds.push(pipe.read)
    const sink = new StdoutSink(
      { fd: pipe.write, write: writeSync, fallback: () => new Collector() },
      { write: () => {} },
      () => {},
      {},
    )
    await sink.head(200, 'OK', [['Content-Type', 'text/plain']])
    await sink.body(new TextEncoder().encode('hi'))
    await sink.settled()
    expect(drain(pipe.read).toString()).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi')
  })

  it('moves to the fallback stream on EAGAIN and loses no byte, in order', async () => {
    const pipe = nonBlockingPipe()
    fds.push(pipe.read)
    const fallback = new Collector()
    let fellBack = 0
    const sink = new StdoutSink(
      {
        fd: pipe.write,
        write: writeSync,
        fallback: () => {
          fellBack++
          return fallback
        },
      },
      { write: () => {} },
      () => {},
      {},
    )
    const body = Buffer.alloc(300 * 1024)
    for (let i = 0; i < body.length; i++) body[i] = i % 251
    for (let off = 0; off < body.length; off += 50 * 1024) await sink.body(body.subarray(off, off + 50 * 1024))
    await sink.settled()
    expect(fellBack).toBe(1)
    const direct = drain(pipe.read)
    expect(direct.length).toBeGreaterThan(0)
    expect(Buffer.concat([direct, fallback.buffer]).equals(body)).toBe(true)
    expect(sink.gone).toBe(false)
  })

  it('treats EPIPE as the web server gone: stops, calls onGone, not a failure', async () => {
    const pipe = nonBlockingPipe()
    closeSync(pipe.read) // the server closed its end
    let gone = 0
    const log: string[] = []
    const sink = new StdoutSink(
      { fd: pipe.write, write: writeSync, fallback: () => new Collector() },
      { write: (m) => void log.push(m) },
      () => gone++,
      {},
    )
    await sink.head(200, 'OK', [])
    await sink.body(new Uint8Array(10))
    expect(sink.gone).toBe(true)
    expect(sink.failed).toBe(false)
    expect(gone).toBe(1)
    expect(log).toEqual([])
  })
})

/** A stand-in for Bun's FileSink: keeps what it is given; flush() answers at once or with a promise. */
class FakeFileSink {
  readonly bytes: Buffer[] = []
  flushes = 0
  constructor(readonly answer: 'sync' | 'async' | 'epipe') {}
  write(bytes: Uint8Array): number {
    this.bytes.push(Buffer.from(bytes))
    return bytes.byteLength
  }
  flush(): number | Promise<number> {
    this.flushes++
    if (this.answer === 'sync') return 0
    if (this.answer === 'async') return new Promise((resolve) => setTimeout(() => resolve(0), 5))
    return Promise.reject(Object.assign(new Error('EPIPE: broken pipe, write'), { code: 'EPIPE' }))
  }
}

describe("StdoutSink on Bun's file sink", () => {
  it('hands each part to the sink and flushes it; waits when the flush is pending (backpressure)', async () => {
    for (const answer of ['sync', 'async'] as const) {
      const fileSink = new FakeFileSink(answer)
      const sink = new StdoutSink({ sink: fileSink }, { write: () => {} }, () => {}, {})
      const head = sink.head(200, 'OK', [['Content-Type', 'text/plain']])
      expect(head === undefined).toBe(answer === 'sync')
      await head
      await sink.body(new TextEncoder().encode('hi'))
      await sink.settled()
      expect(Buffer.concat(fileSink.bytes).toString()).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nhi')
      expect(fileSink.flushes).toBe(2)
    }
  })

  it('a rejected flush (EPIPE) is the web server gone: onGone, not a failure, nothing unhandled', async () => {
    let gone = 0
    const log: string[] = []
    const sink = new StdoutSink(
      new Object({ sink: new FakeFileSink('epipe') }) as { sink: FakeFileSink },
      {
        write: (m) => void log.push(m),
      },
      () => gone++,
      {},
    )
    await sink.head(200, 'OK', [])
    await sink.settled()
    expect([sink.gone, sink.failed, gone, log]).toEqual([true, false, 1, []])
    expect(sink.body(new Uint8Array(10))).toBeUndefined() // nothing more is written
  })
})
