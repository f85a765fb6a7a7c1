// Shared by the CGI host tests: fixture paths, request variables, reading bodies, and /proc probes for
// processes that must be gone.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { expect } from 'vitest'
import type { CgiResponse } from '../../../src/hosts/cgi/index.js'

export const FIXTURES = resolve(import.meta.dirname, '../../fixtures/cgi-host')
export const fixture = (name: string): string => join(FIXTURES, name)

/** The variables a front sends for a plain GET (RFC 3875 §4.1). */
export const GET: ReadonlyArray<readonly [string, string]> = [
  ['REQUEST_METHOD', 'GET'],
  ['SCRIPT_NAME', '/cgi-bin/x'],
  ['PATH_INFO', ''],
  ['QUERY_STRING', ''],
  ['SERVER_NAME', 'localhost'],
  ['SERVER_PORT', '80'],
  ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['SERVER_SOFTWARE', 'tsgi-test'],
  ['REMOTE_ADDR', '127.0.0.1'],
]

/** Narrows to a `cgi` response or fails the test. */
export function asCgi(response: CgiResponse): Extract<CgiResponse, { kind: 'cgi' }> {
  expect(response.kind).toBe('cgi')
  return response as Extract<CgiResponse, { kind: 'cgi' }>
}

export async function bytesOf(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const chunk of body) parts.push(chunk)
  return Buffer.concat(parts)
}

export async function textOf(body: AsyncIterable<Uint8Array>): Promise<string> {
  return (await bytesOf(body)).toString('latin1')
}

/** A body of `size` bytes in 64 KiB chunks of a repeating pattern; `pulled` counts what was taken. */
export function upload(size: number): { body: AsyncIterable<Uint8Array>; bytes: Buffer; pulled: () => number } {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 11)) & 0xff
  let pulled = 0
  async function* body(): AsyncGenerator<Uint8Array> {
    for (let at = 0; at < size; at += 65536) {
      const chunk = bytes.subarray(at, Math.min(size, at + 65536))
      pulled += chunk.length
      yield chunk
    }
  }
  return { body: body(), bytes, pulled: () => pulled }
}

/** State letter of a process from /proc (R, S, Z...), or undefined when it no longer exists. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/** True once `pid` is gone or a zombie (dead; PID 1 reaps orphans when it gets to it). */
export async function waitDead(pid: number, ms = 4000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) {
    const state = procState(pid)
    if (state === undefined || state === 'Z') return true
  }
  return false
}

/** Pids whose parent is this process, with their state. */
export function children(): Array<{ pid: number; state: string }> {
  const found: Array<{ pid: number; state: string }> = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[1]) === process.pid) found.push({ pid: Number(name), state: fields[0]! })
    } catch {
      // It ended while we looked.
    }
  }
  return found
}

/** Reads "$$ $!" that hang.sh writes: the script's pid and its grandchild's. */
export async function pidsIn(file: string, ms = 4000): Promise<[script: number, grandchild: number]> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(10)) {
    let text = ''
    try {
      text = readFileSync(file, 'utf8')
    } catch {}
    const match = /^(\d+) (\d+)\n/.exec(text)
    if (match) return [Number(match[1]), Number(match[2])]
  }
  throw new Error(`no pids in ${file}`)
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
