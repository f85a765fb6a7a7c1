// Child processes of the benches: started with a clean environment (no NODE_EXTRA_CA_CERTS, which
// triples Node's start-up), tracked so the caller can kill them all; /proc readers for CPU and RSS.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { type AddressInfo, createServer } from 'node:net'

/** `env -i`-like: PATH and HOME only. */
export const CLEAN_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' }

const children = new Set<ChildProcess>()

export interface Started {
  child: ChildProcess
  pid: number
  stdout: () => string
  stderr: () => string
}

/** Spawns `command` (no shell, so `pid` is the process measured) and keeps what it prints. */
export function start(command: string, args: string[], cwd?: string, env: NodeJS.ProcessEnv = {}): Started {
  const child = spawn(command, args, { env: { ...CLEAN_ENV, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  if (child.pid === undefined) throw new Error(`bench: cannot start ${command}`)
  children.add(child)
  child.once('exit', () => children.delete(child))
  let out = ''
  let err = ''
  child.stdout!.setEncoding('latin1').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('latin1').on('data', (s: string) => (err = (err + s).slice(-16384)))
  return { child, pid: child.pid, stdout: () => out, stderr: () => err }
}

/** Resolves with the first match of `pattern` in the child's stdout or stderr; rejects on exit or timeout. */
export function waitFor(proc: Started, pattern: RegExp, timeoutMs = 10_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(proc.stdout()) ?? pattern.exec(proc.stderr())
      if (m) {
        cleanup()
        resolve(m)
      }
      return m !== null
    }
    const onExit = (code: number | null): void => {
      cleanup()
      reject(
        new Error(
          `bench: ${proc.child.spawnfile} exited (${code}) before printing ${pattern}: ${proc.stderr().slice(-2000)}`,
        ),
      )
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(
        new Error(
          `bench: ${proc.child.spawnfile} did not print ${pattern} within ${timeoutMs} ms: ${proc.stderr().slice(-2000)}`,
        ),
      )
    }, timeoutMs)
    const cleanup = (): void => {
      clearTimeout(timer)
      proc.child.stdout!.off('data', check)
      proc.child.stderr!.off('data', check)
      proc.child.off('exit', onExit)
    }
    proc.child.stdout!.on('data', check)
    proc.child.stderr!.on('data', check)
    proc.child.once('exit', onExit)
    check()
  })
}

/** Runs a child to completion; rejects when it fails or runs past `timeoutMs` (it is then killed). */
export function run(command: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const proc = start(command, args, undefined, env)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.child.kill('SIGKILL')
      reject(new Error(`bench: ${command} ${args[0] ?? ''} ran past ${timeoutMs} ms: ${proc.stderr().slice(-2000)}`))
    }, timeoutMs)
    proc.child.once('close', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(proc.stdout())
      else reject(new Error(`bench: ${command} exited ${code}: ${proc.stderr().slice(-2000)}`))
    })
  })
}

/** SIGTERM, then SIGKILL after `graceMs`: one child, by its own handle. */
export async function stop(proc: Started, graceMs = 2000): Promise<void> {
  const { child } = proc
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Every child still running, killed now: on the way out, whatever happened. */
export function killAll(): void {
  for (const child of children) child.kill('SIGKILL')
}

const TICK_MS = 10 // USER_HZ is 100 on Linux

/** Fields of /proc/PID/stat after the command name: index 11 is utime (field 14). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

/** utime + stime of `pid`, milliseconds. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid)
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}

/** cutime + cstime of `pid`: its children's CPU once it has reaped them, milliseconds. */
export function reapedCpuMs(pid: number): number {
  const fields = statFields(pid)
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS
}

/** `pid` and every live descendant. */
export function processTree(pid: number): number[] {
  const out = [pid]
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i]!))
  return out
}

/**
 * CPU of `pid` and all its descendants, live or reaped: each live process's own plus what it reaped. A
 * child that exits between two reads moves from the live sum to its parent's reaped sum, counted once.
 */
export function treeCpuMs(pid: number): number {
  let total = 0
  for (const one of processTree(pid)) {
    try {
      total += cpuMs(one) + reapedCpuMs(one)
    } catch {
      // exited meanwhile: its parent's reaped sum has it, or will on the next read
    }
  }
  return total
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
  return m ? Number(m[1]) : NaN
}

export const rssKb = (pid: number): number => statusKb(pid, 'VmRSS')
export const peakKb = (pid: number): number => statusKb(pid, 'VmHWM')

/** Resets VmHWM to the current RSS (clear_refs "5", Linux ≥ 4.0); false when not allowed. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** Samples VmRSS every `everyMs` until stopped; the max is a cross-check on VmHWM. */
export function sampleRss(pid: number, everyMs = 20): () => number {
  let max = 0
  const timer = setInterval(() => {
    try {
      max = Math.max(max, rssKb(pid))
    } catch {
      // gone
    }
  }, everyMs)
  return () => {
    clearInterval(timer)
    return max
  }
}

/** The direct children of `pid`, from every thread (nginx's worker under its master). */
export function childPids(pid: number): number[] {
  let tasks: string[]
  try {
    tasks = readdirSync(`/proc/${pid}/task`)
  } catch {
    return []
  }
  const out: number[] = []
  for (const task of tasks) {
    try {
      const list = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').trim()
      if (list !== '') out.push(...list.split(/\s+/).map(Number))
    } catch {
      // the thread ended
    }
  }
  return out
}

/** CPU used by other processes over `ms` (share of one core), and the busiest one: noise on a shared box. */
export async function othersBusy(ms: number, exclude: Set<number>): Promise<{ share: number; top: string }> {
  const read = (): Map<number, number> => {
    const out = new Map<number, number>()
    for (const name of readdirSync('/proc')) {
      const pid = Number(name)
      if (!Number.isInteger(pid) || exclude.has(pid)) continue
      try {
        out.set(pid, cpuMs(pid))
      } catch {
        // exited meanwhile
      }
    }
    return out
  }
  const before = read()
  await new Promise((resolve) => setTimeout(resolve, ms))
  let total = 0
  let top = { pid: 0, ms: 0 }
  for (const [pid, used] of read()) {
    const delta = used - (before.get(pid) ?? used)
    total += delta
    if (delta > top.ms) top = { pid, ms: delta }
  }
  let command = ''
  try {
    command = readFileSync(`/proc/${top.pid}/cmdline`, 'latin1')
      .split('\0')
      .filter(Boolean)
      .slice(-2)
      .join(' ')
      .slice(0, 60)
  } catch {
    // gone
  }
  return {
    share: total / ms,
    top: top.ms > 0 ? `pid ${top.pid} ${command} ${Math.round((top.ms / ms) * 100)}%` : 'none',
  }
}

export const MB = 1e6

/** Resets VmHWM now; the returned function gives the peak since, in MB (max of VmHWM and sampling). */
export function trackPeak(pid: number): () => number {
  const reset = resetPeak(pid)
  const sampled = sampleRss(pid)
  return () => {
    const max = sampled()
    let hwm = NaN
    try {
      hwm = reset ? peakKb(pid) : NaN
    } catch {
      // gone
    }
    return (Math.max(max, Number.isFinite(hwm) ? hwm : 0) * 1024) / MB
  }
}

export function rssMB(pid: number): number {
  return (rssKb(pid) * 1024) / MB
}

export function haveCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

/** A free loopback TCP port (bound then released: the race is acceptable for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}
