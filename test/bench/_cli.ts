// `tsgi bench` as a child process of bin/tsgi.js, stderr on a pipe (no progress bar then), in a clean
// environment plus `env`: its exit code and output.
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname, '../..')

export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const clean = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...env }
    const child = spawn(process.execPath, [join(ROOT, 'bin/tsgi.js'), ...args], { cwd: ROOT, env: clean })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    child.on('close', (code) => done({ code, stdout, stderr }))
  })
}
