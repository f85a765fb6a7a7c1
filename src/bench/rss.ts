// What a CGI script's processes report about themselves at exit, through a preload (NODE_OPTIONS, which
// Deno reads too; BUN_OPTIONS on Bun): their peak RSS and runtime (the script run twice outside the timed
// windows) and, where the web server's accounting loses it (mod_cgid ignores SIGCHLD), their CPU time.
import { spawn } from 'node:child_process'
import {
  chmodSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'

const PRELOAD = `'use strict'
process.on('exit', () => {
  try {
    const v = process.versions
    const runtime = v.bun ? 'bun' : v.deno ? 'deno' : 'node'
    const line = process.pid + ' ' + process.resourceUsage().maxRSS + ' ' + runtime + '\\n'
    require('node:fs').appendFileSync(process.env.TSGI_BENCH_RSS_FILE, line)
  } catch {}
})
`

/** The CGI variables of a GET of `uri` below `scriptName`. */
export function cgiVars(scriptName: string, pathInfo: string, query: string): Record<string, string> {
  return {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REQUEST_METHOD: 'GET',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SCRIPT_NAME: scriptName,
    PATH_INFO: pathInfo,
    QUERY_STRING: query,
    REQUEST_URI: `${scriptName}${pathInfo}${query === '' ? '' : `?${query}`}`,
    SERVER_NAME: '127.0.0.1',
    SERVER_PORT: '80',
    SERVER_SOFTWARE: 'tsgi-bench',
    REMOTE_ADDR: '127.0.0.1',
    HTTP_HOST: '127.0.0.1',
  }
}

/**
 * The most MB a request of `script` held at its peak (all its processes) over `runs` runs, with `path` as
 * PATH and nothing else but the CGI variables, as the front runs it; and the runtimes its processes ran on.
 */
export async function scriptPeakMB(dir: string, script: string, vars: Record<string, string>, path: string, runs = 2) {
  const preload = join(dir, 'rss-preload.cjs')
  if (!existsSync(preload)) writeFileSync(preload, PRELOAD)
  const totals: number[] = []
  const runtimes = new Set<string>()
  for (let run = 0; run < runs; run++) {
    const file = join(dir, `rss-${run}.txt`)
    rmSync(file, { force: true })
    // BUN_OPTIONS takes no quotes: a path with a space leaves Bun's scripts unmeasured.
    const bun = /\s/.test(preload) ? {} : { BUN_OPTIONS: `--preload ${preload}` }
    const options = { NODE_OPTIONS: `--require "${preload}"`, ...bun }
    await runOnce(script, { PATH: path, ...vars, ...options, TSGI_BENCH_RSS_FILE: file })
    const lines = existsSync(file) ? readFileSync(file, 'latin1').trim().split('\n') : []
    const kb = lines.map((line) => Number(line.split(' ')[1]))
    for (const line of lines) runtimes.add(line.split(' ')[2] ?? '?')
    if (kb.length > 0) totals.push((kb.reduce((a, b) => a + b, 0) * 1024) / 1e6)
  }
  return { mb: totals.length === 0 ? Number.NaN : Math.max(...totals), runtimes: [...runtimes] }
}

function runOnce(script: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(script, [], { env, stdio: 'ignore' })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.once('error', () => resolve())
    child.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

const CPU_PRELOAD = `'use strict'
process.on('exit', () => {
  try {
    const cpu = process.cpuUsage()
    require('node:fs').appendFileSync(process.env.TSGI_BENCH_CPU_FILE, cpu.user + cpu.system + '\\n')
  } catch {}
})
`

/** The preload and the log it appends each process's CPU (µs) to, writable by the web server's user. */
export function cpuPreload(dir: string): { preload: string; log: string } {
  const preload = join(dir, 'cpu-preload.cjs')
  const log = join(dir, 'cpu.log')
  writeFileSync(preload, CPU_PRELOAD, { mode: 0o644 })
  writeFileSync(log, '', { mode: 0o666 })
  chmodSync(log, 0o666)
  return { preload, log }
}

/** Reads what processes appended to the CPU log since the last call: their count and CPU in ms. */
export function cpuLogReader(log: string): () => { runs: number; ms: number } {
  let offset = 0
  return () => {
    const size = statSync(log).size
    const buffer = Buffer.alloc(size - offset)
    const fd = openSync(log, 'r')
    try {
      readSync(fd, buffer, 0, buffer.length, offset)
    } finally {
      closeSync(fd)
    }
    const text = buffer.toString('latin1')
    const end = text.lastIndexOf('\n') + 1
    offset += end
    const values = text.slice(0, end).split('\n').filter(Boolean).map(Number)
    return { runs: values.length, ms: values.reduce((a, b) => a + b, 0) / 1000 }
  }
}
