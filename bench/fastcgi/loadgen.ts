// The old benches' generator process: one window (src/bench/loadgen.ts) or one large transfer (bulk, here).
// Usage: node loadgen.mjs '<GenConfig JSON>'; prints one JSON GenResult line on stdout.
import { check, type GenConfig, type GenResult, loop, meters, open, summary } from '../../src/bench/loadgen.js'
import { Latencies } from '../../src/bench/stats.js'
import { type EndDetector, encodeBodyChunk, encodeHead, fcgiDetector, httpDetector } from '../../src/bench/wire.js'

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as GenConfig
  const result = config.mode === 'bulk' ? await bulk(config) : await loop(config)
  process.stdout.write(`${JSON.stringify(result)}\n`)
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
  const meter = meters(config)
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
  const cpu = meter()
  const firstStatus = check(config, Buffer.concat(firstBytes))
  const one = { completed: 1, errors: 0, mismatched: 0, responseBytes: detector.bytes, firstStatus }
  const lat = new Latencies()
  lat.add(seconds * 1e6)
  return summary(one, lat, seconds, 0, cpu, config.samplePoints)
}

main().catch((err: unknown) => {
  process.stderr.write(`loadgen: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
