// StdoutSink on a real file descriptor: direct writes, the switch to a stream on EAGAIN (a non-blocking
// stdout), and EPIPE when the web server closed its end.
import { execFileSync } from 'node:child_process'
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
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
    const sink = new StdoutSink({ fd: pipe.write, fallback: () => new Collector() }, { write: () => {} }, () => {}, {})
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
      { fd: pipe.write, fallback: () => new Collector() },
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
