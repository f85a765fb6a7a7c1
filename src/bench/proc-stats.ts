// /proc readers for the benches: a process's CPU (its own, its reaped children's), its RSS and peak RSS,
// its children and descendants, and how busy everything else on the machine is.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

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
