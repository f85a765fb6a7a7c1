// Child processes of the benches: started with a clean environment (no NODE_EXTRA_CA_CERTS, which
// triples Node's start-up), tracked so the caller can kill them all; a free port, a command's presence.
import { type ChildProcess, type StdioOptions, spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
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

/**
 * Spawns `command` (no shell, so `pid` is the process measured) and keeps what it prints; with `logFile`,
 * stdout and stderr go to that file instead of through this process (a server's access log costs nothing here).
 */
export function start(
  command: string,
  args: string[],
  cwd?: string,
  env: NodeJS.ProcessEnv = {},
  logFile?: string,
): Started {
  const fd = logFile === undefined ? undefined : openSync(logFile, 'a')
  const stdio: StdioOptions = fd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd]
  const child = spawn(command, args, { env: { ...CLEAN_ENV, ...env }, cwd, stdio })
  if (fd !== undefined) closeSync(fd)
  if (child.pid === undefined) throw new Error(`bench: cannot start ${command}`)
  children.add(child)
  child.once('exit', () => children.delete(child))
  if (logFile !== undefined) {
    const tail = (): string => fileTail(logFile)
    return { child, pid: child.pid, stdout: tail, stderr: tail }
  }
  let out = ''
  let err = ''
  child.stdout!.setEncoding('latin1').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('latin1').on('data', (s: string) => (err = (err + s).slice(-16384)))
  return { child, pid: child.pid, stdout: () => out, stderr: () => err }
}

function fileTail(path: string, bytes = 16384): string {
  try {
    const text = readFileSync(path, 'latin1')
    return text.length > bytes ? text.slice(-bytes) : text
  } catch {
    return ''
  }
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
    // A child writing to a file is polled; a piped one is checked on each read.
    const poll = proc.child.stdout === null ? setInterval(check, 20) : undefined
    const cleanup = (): void => {
      clearTimeout(timer)
      clearInterval(poll)
      proc.child.stdout?.off('data', check)
      proc.child.stderr?.off('data', check)
      proc.child.off('exit', onExit)
    }
    proc.child.stdout?.on('data', check)
    proc.child.stderr?.on('data', check)
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
