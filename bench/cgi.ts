// `npm run bench:cgi`: wall time per CGI request of the compiled cgi-bin/hello against a bare CommonJS
// hello printing the same bytes, `node -e ''` and the tsx variant. Interleaved rounds, clean environment.
// Knobs: ROUNDS (default 60), TSX_ROUNDS (default 10). Target: compiled <= 1.10x bare.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const rounds = Number(process.env.ROUNDS ?? 60)
const tsxRounds = Number(process.env.TSX_ROUNDS ?? 10)

// `env -i`-like: PATH and the CGI variables only. NODE_EXTRA_CA_CERTS (set in this shell) would add ~37 ms.
const env = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  GATEWAY_INTERFACE: 'CGI/1.1',
  REQUEST_METHOD: 'GET',
  SERVER_PROTOCOL: 'HTTP/1.1',
  SCRIPT_NAME: '/cgi-bin/hello',
  PATH_INFO: '',
  QUERY_STRING: '',
  SERVER_NAME: 'localhost',
  SERVER_PORT: '80',
  SERVER_SOFTWARE: 'bench',
  REMOTE_ADDR: '127.0.0.1',
}

interface Variant {
  name: string
  command: string[]
  times: number[]
}

const node = process.execPath
const compiled: Variant = { name: 'compiled cgi-bin/hello', command: [node, join(root, 'cgi-bin/hello')], times: [] }
const bare: Variant = {
  name: 'bare bench/fixtures/bare-hello.cjs',
  command: [node, join(root, 'bench/fixtures/bare-hello.cjs')],
  times: [],
}
const bareFd: Variant = {
  name: 'bare-fd bench/fixtures/bare-hello-fd.cjs',
  command: [node, join(root, 'bench/fixtures/bare-hello-fd.cjs')],
  times: [],
}
const empty: Variant = { name: "node -e ''", command: [node, '-e', ''], times: [] }
const tsx: Variant = { name: 'tsx cgi-bin/hello-tsx', command: [join(root, 'cgi-bin/hello-tsx')], times: [] }

/** One spawn, timed from spawn to exit; returns the child's stdout. */
function once(variant: Variant): Buffer {
  const start = process.hrtime.bigint()
  const run = spawnSync(variant.command[0]!, variant.command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] })
  variant.times.push(Number(process.hrtime.bigint() - start) / 1e6)
  if (run.status !== 0) throw new Error(`${variant.name} exited ${run.status}: ${run.stderr.toString()}`)
  return run.stdout
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function main(): void {
  if (!existsSync(join(root, 'cgi-bin/dist/hello.cjs')))
    throw new Error('cgi-bin/dist/hello.cjs is missing: run `npm run build`')
  const expected = once(bare)
  const got = once(compiled)
  if (!got.equals(expected))
    throw new Error(
      `cgi-bin/hello printed ${JSON.stringify(got.toString('latin1'))}, bare printed ${JSON.stringify(expected.toString('latin1'))}`,
    )
  if (!once(bareFd).equals(expected)) throw new Error('bare-hello-fd.cjs printed other bytes than bare-hello.cjs')
  for (const variant of [compiled, bare, bareFd, empty]) variant.times.length = 0 // warm-up runs do not count

  const pairRatios: number[] = []
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so drift and cache effects hit every variant alike.
    const order = round % 2 === 0 ? [compiled, bare, bareFd, empty] : [empty, bareFd, bare, compiled]
    for (const variant of order) once(variant)
    pairRatios.push(compiled.times.at(-1)! / bare.times.at(-1)!)
  }
  for (let round = 0; round < tsxRounds; round++) {
    once(tsx)
    once(bare)
  }

  const bareMedian = median(bare.times)
  console.log(
    `CGI hello, wall time per request (spawn to exit), ${rounds} interleaved rounds (tsx: ${tsxRounds}), node ${process.version}`,
  )
  for (const variant of [empty, bareFd, bare, compiled, tsx]) {
    const m = median(variant.times)
    console.log(
      `  ${variant.name.padEnd(42)} median ${m.toFixed(1).padStart(6)} ms  min ${Math.min(...variant.times)
        .toFixed(1)
        .padStart(6)} ms  ${(m / bareMedian).toFixed(2)}x bare`,
    )
  }
  const ratio = median(pairRatios)
  console.log(
    `  compiled / bare-fd (stricter floor: no process.stdout): ratio of medians ${(median(compiled.times) / median(bareFd.times)).toFixed(3)}`,
  )
  console.log(
    `  compiled / bare: ratio of medians ${(median(compiled.times) / bareMedian).toFixed(3)}, median of paired ratios ${ratio.toFixed(3)} (target <= 1.10: ${ratio <= 1.1 ? 'met' : 'NOT met'})`,
  )
}

main()
