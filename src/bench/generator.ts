// The bench's side of the load generator: one forked process for the whole run (its CPU stays out of
// the servers' and the bench's), windows sent over IPC, results awaited.
import { type ChildProcess, fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { GenConfig, GenResult } from './loadgen.js'
import { CLEAN_ENV } from './procs.js'
import { fromSource } from './where.js'

export interface Generator {
  run(config: GenConfig): Promise<GenResult>
  close(): void
}

/** Forks src/bench/loadgen-process (through tsx when we run from the sources). */
export function startGenerator(): Generator {
  const entry = fileURLToPath(new URL(`./loadgen-process.${fromSource() ? 'ts' : 'js'}`, import.meta.url))
  const child: ChildProcess = fork(entry, [], { env: CLEAN_ENV, execArgv: runtimeFlags(), stdio: 'inherit' })
  const pending = new Map<number, { resolve: (r: GenResult) => void; reject: (e: Error) => void }>()
  let next = 0
  child.on('message', (reply: { id: number; result?: GenResult; error?: string }) => {
    const waiter = pending.get(reply.id)
    pending.delete(reply.id)
    if (reply.result !== undefined) waiter?.resolve(reply.result)
    else waiter?.reject(new Error(reply.error ?? 'bench: the load generator failed'))
  })
  child.once('exit', (code, signal) => {
    for (const waiter of pending.values())
      waiter.reject(new Error(`bench: the load generator exited (${code ?? signal})`))
    pending.clear()
  })
  return {
    run: (config) =>
      new Promise((resolve, reject) => {
        const id = next++
        pending.set(id, { resolve, reject })
        child.send({ id, config })
      }),
    close: () => {
      if (child.connected) child.disconnect()
      child.kill()
    },
  }
}

/** tsx's loader for a .ts entry, unless this process already runs with it. */
function runtimeFlags(): string[] {
  if (!fromSource()) return []
  if (process.execArgv.some((arg) => arg.includes('tsx'))) return process.execArgv
  const loader = createRequire(import.meta.url).resolve('tsx/esm')
  return ['--import', pathToFileURL(loader).href]
}
