// Runs once before the tests. bin/tsgi.js runs dist/ when it exists, and the CLI, process and real-server
// tests spawn it: a dist/ older than src/ would have them test old code. Rebuild it then (a fresh clone,
// as in CI, has no dist/ and runs the sources through tsx).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

function newest(dir: string): number {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

export default function setup(): void {
  const built = join(root, 'dist', 'cli', 'main.js')
  if (!existsSync(built) || statSync(built).mtimeMs >= newest(join(root, 'src'))) return
  const run = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' })
  if (run.status !== 0) throw new Error('test setup: dist/ is older than src/ and `npm run build` failed')
}
