// The other JavaScript runtimes the suites run tsgi on: Bun and Deno, from the npm registry's packages
// (`scripts/fetch-runtimes.sh` unpacks them into .cache/runtimes/; .ci/run does), or TSGI_BUN / TSGI_DENO.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { DENO_FLAGS } from '../src/bench/runtimes.js'
import { ROOT } from './_bundles.js'

export interface Runtime {
  name: 'Bun' | 'Deno'
  /** The command line that runs a script: the binary and the flags tsgi needs there. */
  argv: string[]
  /** How to get it when missing. */
  install: string
}

const FETCH = 'bash scripts/fetch-runtimes.sh'

/** Bun and Deno where found; `missing` names the others (a skip, or a failure under TSGI_REQUIRE_SERVERS=1). */
export function findRuntimes(): { found: Runtime[]; missing: Runtime[] } {
  const cache = join(ROOT, '.cache/runtimes')
  const candidates: Array<[Runtime['name'], string, string[]]> = [
    ['Bun', process.env.TSGI_BUN ?? join(cache, 'bun/bin/bun'), []],
    ['Deno', process.env.TSGI_DENO ?? join(cache, 'deno/deno'), DENO_FLAGS],
  ]
  const found: Runtime[] = []
  const missing: Runtime[] = []
  for (const [name, binary, flags] of candidates) {
    const runtime = { name, argv: [binary, ...flags], install: FETCH }
    if (existsSync(binary)) found.push(runtime)
    else missing.push(runtime)
  }
  return { found, missing }
}
