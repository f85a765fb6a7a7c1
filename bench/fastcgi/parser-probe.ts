// The sans-IO parser alone, in its own process: decode throughput of hello requests (one chunk each,
// as they arrive on a socket, answered with END_REQUEST) and of a STDIN stream in 64 KiB socket reads.
// Prints one JSON line: { helloReqPerSec, helloMBps, stdinGBps }.
import { ApplicationConnection, NEED_DATA } from '../../src/fastcgi/protocol/index.js'
import { encodeBodyChunk, encodeHead, type RequestSpec } from './wire.js'

const hello: RequestSpec = { kind: 'fcgi', method: 'GET', uri: '/' }

function helloRate(ms: number): { rps: number; mbps: number } {
  const one = encodeHead(hello)
  const batch = 1000
  const wire = Buffer.concat(Array.from({ length: batch }, () => one))
  const conn = new ApplicationConnection()
  let n = 0
  const t0 = performance.now()
  let t = t0
  while (t - t0 < ms) {
    for (let i = 0; i < batch; i++) {
      conn.receiveData(wire.subarray(i * one.length, (i + 1) * one.length))
      for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) {
        if (e.type === 'stdin-end') {
          conn.endRequest(e.requestId, 0)
          n++
        }
      }
      conn.takeOutput()
    }
    t = performance.now()
  }
  const s = (t - t0) / 1000
  return { rps: n / s, mbps: (n * one.length) / s / 1e6 }
}

function stdinRate(ms: number): number {
  const spec: RequestSpec = { kind: 'fcgi', method: 'POST', uri: '/sink', bodyBytes: 4 * 1024 * 1024 }
  const conn = new ApplicationConnection()
  conn.receiveData(encodeHead(spec))
  while (conn.nextEvent() !== NEED_DATA);
  const { chunk } = encodeBodyChunk(spec, 4 * 1024 * 1024)
  let bytes = 0
  const t0 = performance.now()
  let t = t0
  while (t - t0 < ms) {
    // 60,000-byte reads: records straddle reads, as on the wire (aligned reads would be all views).
    for (let at = 0; at < chunk.length; at += 60000) {
      conn.receiveData(chunk.subarray(at, at + 60000))
      for (let e = conn.nextEvent(); e !== NEED_DATA; e = conn.nextEvent()) if (e.type === 'stdin') bytes += e.data.length
    }
    t = performance.now()
  }
  return bytes / ((t - t0) / 1000) / 1e9
}

helloRate(200)
stdinRate(200)
const h = helloRate(1000)
const gbps = stdinRate(700)
process.stdout.write(`${JSON.stringify({ helloReqPerSec: h.rps, helloMBps: h.mbps, stdinGBps: gbps })}\n`)
