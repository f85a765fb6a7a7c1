#!/usr/bin/env -S node --max-semi-space-size=2 --single-threaded-gc
// The `tsgi` command: runs the built CLI (dist/cli/main.js), or in a checkout without a build, the
// TypeScript sources through tsx. The only place besides src/cli/main.ts that exits the process.
// The shebang's V8 flags keep a resident responder's memory low and its GC cheap (docs/performance.md).
// TSGI_FROM_SOURCE=1 runs the sources even when dist/ exists (a stale build must not be what a test runs).
import { existsSync } from 'node:fs'

const built = new URL('../dist/cli/main.js', import.meta.url)
let cli
if (existsSync(built) && process.env.TSGI_FROM_SOURCE !== '1') {
  cli = await import(built.href)
} else {
  let tsx
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    process.stderr.write('tsgi: dist/ is missing: run `npm run build` first (or install tsx to run from source)\n')
    process.exit(1)
  }
  cli = await tsx.tsImport(new URL('../src/cli/main.ts', import.meta.url).href, import.meta.url)
}
const code = await cli.main(process.argv.slice(2))
// Let buffered output reach a pipe before exiting.
process.stdout.write('', () => process.exit(code))
