// `npm run bench:cgi`: wall time per CGI request of the compiled cgi-bin/hello, of `tsgi build` scripts
// (CommonJS, and ES module for a "type": "module" package) and of a TypeScript source script run by tsgi-cgi
// from its compile cache, against a bare CommonJS hello printing the same bytes, `node -e ''` and the tsx
// variant. Interleaved rounds, clean environment.
// Knobs: ROUNDS (default 60), TSX_ROUNDS (default 10). Targets: compiled <= 1.10x bare, tsgi build <= 1.05x,
// the cached source script <= 1.10x.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { buildCgiScript } from '../src/build/cgi-script.js'

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
  /** Its own environment, when it differs from `env`. */
  env?: Record<string, string>
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
const built: Variant = { name: 'tsgi build examples/hello.ts (CommonJS)', command: [], times: [] }
const builtEsm: Variant = { name: 'tsgi build, in a "type": "module" package', command: [], times: [] }
// Started like the rows above (node FILE), and as Apache starts it (the file: env finds tsgi-cgi, env finds node).
const source: Variant = { name: 'tsgi-cgi SCRIPT (cached source)', command: [], times: [] }
const sourceExec: Variant = { name: 'the same, run as a file (env twice)', command: [], times: [] }

/** `tsgi build` of the hello example, as a user gets it: in a plain directory and in an ES module package. */
async function buildScripts(dir: string): Promise<void> {
  const app = join(root, 'examples/hello.ts')
  await buildCgiScript({ app, out: join(dir, 'cjs', 'hello') })
  mkdirSync(join(dir, 'esm'), { recursive: true })
  writeFileSync(join(dir, 'esm', 'package.json'), '{ "type": "module" }\n')
  await buildCgiScript({ app, out: join(dir, 'esm', 'hello') })
  built.command = [node, join(dir, 'cjs', 'hello')]
  builtEsm.command = [node, join(dir, 'esm', 'hello')]
}

/**
 * The hello example as a source script (`#!/usr/bin/env tsgi-cgi`, then the TypeScript), executed as Apache
 * runs it: the file itself, tsgi-cgi found on PATH. Its first run (a warm-up) fills the cache.
 */
function sourceScript(dir: string): void {
  mkdirSync(join(dir, 'path'))
  symlinkSync(join(root, 'bin', 'tsgi-cgi.cjs'), join(dir, 'path', 'tsgi-cgi'))
  const file = join(dir, 'hello-source')
  const code = readFileSync(join(root, 'examples/hello.ts'), 'utf8')
  writeFileSync(file, `#!/usr/bin/env tsgi-cgi\n${code}`, { mode: 0o755 })
  source.command = [node, join(root, 'bin', 'tsgi-cgi.cjs'), file]
  sourceExec.command = [file]
  source.env = { ...env, PATH: `${join(dir, 'path')}:${env.PATH}`, TSGI_CACHE_DIR: join(dir, 'cache') }
  sourceExec.env = source.env
}

/** One spawn, timed from spawn to exit; returns the child's stdout. */
function once(variant: Variant): Buffer {
  const start = process.hrtime.bigint()
  const run = spawnSync(variant.command[0]!, variant.command.slice(1), {
    env: variant.env ?? env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  variant.times.push(Number(process.hrtime.bigint() - start) / 1e6)
  if (run.status !== 0) throw new Error(`${variant.name} exited ${run.status}: ${run.stderr.toString()}`)
  return run.stdout
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function main(): Promise<void> {
  if (!existsSync(join(root, 'cgi-bin/dist/hello.cjs')))
    throw new Error('cgi-bin/dist/hello.cjs is missing: run `npm run build`')
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-bench-cgi-'))
  try {
    await buildScripts(dir)
    sourceScript(dir)
    measure()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function measure(): void {
  const expected = once(bare)
  const got = once(compiled)
  if (!got.equals(expected))
    throw new Error(
      `cgi-bin/hello printed ${JSON.stringify(got.toString('latin1'))}, bare printed ${JSON.stringify(expected.toString('latin1'))}`,
    )
  if (!once(bareFd).equals(expected)) throw new Error('bare-hello-fd.cjs printed other bytes than bare-hello.cjs')
  for (const variant of [built, builtEsm, source, sourceExec]) {
    if (!once(variant).equals(expected)) throw new Error(`${variant.name} printed other bytes than bare-hello.cjs`)
  }
  const all = [compiled, built, builtEsm, source, sourceExec, bare, bareFd, empty]
  for (const variant of all) variant.times.length = 0 // warm-up runs do not count

  const pairRatios: number[] = []
  const builtRatios: number[] = []
  const sourceRatios: number[] = []
  const sourceExecRatios: number[] = []
  for (let round = 0; round < rounds; round++) {
    // Alternate the order so drift and cache effects hit every variant alike.
    const order = round % 2 === 0 ? all : [...all].reverse()
    for (const variant of order) once(variant)
    pairRatios.push(compiled.times.at(-1)! / bare.times.at(-1)!)
    builtRatios.push(built.times.at(-1)! / bare.times.at(-1)!)
    sourceRatios.push(source.times.at(-1)! / bare.times.at(-1)!)
    sourceExecRatios.push(sourceExec.times.at(-1)! / bare.times.at(-1)!)
  }
  for (let round = 0; round < tsxRounds; round++) {
    once(tsx)
    once(bare)
  }

  const bareMedian = median(bare.times)
  console.log(
    `CGI hello, wall time per request (spawn to exit), ${rounds} interleaved rounds (tsx: ${tsxRounds}), node ${process.version}`,
  )
  for (const variant of [empty, bareFd, bare, compiled, built, builtEsm, source, sourceExec, tsx]) {
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
  const builtRatio = median(builtRatios)
  console.log(
    `  tsgi build / bare: median of paired ratios ${builtRatio.toFixed(3)} (target <= 1.05: ${builtRatio <= 1.05 ? 'met' : 'NOT met'}); ES module form: ${(median(builtEsm.times) / bareMedian).toFixed(3)}x`,
  )
  const sourceRatio = median(sourceRatios)
  console.log(
    `  tsgi-cgi SCRIPT (cached) / bare: median of paired ratios ${sourceRatio.toFixed(3)} (target <= 1.10: ${sourceRatio <= 1.1 ? 'met' : 'NOT met'}); executed through env twice: ${median(sourceExecRatios).toFixed(3)}`,
  )
}

await main()
