// The conformance suite on Bun and Deno: the same app through CGI, FastCGI (TCP, Unix socket, fd 0) and the
// dev server, each in a process of that runtime (test/_transport-runtime.ts). A runtime that is not there is
// skipped with the command that fetches it, or fails CI (TSGI_REQUIRE_SERVERS=1).
import { afterAll, describe, it } from 'vitest'
import { conformanceSuite } from '../_conformance.js'
import { findRuntimes } from '../_runtimes.js'
import { runtimeTransports } from '../_transport-runtime.js'
import { removeBundles } from '../_transports.js'

afterAll(removeBundles)

const { found, missing } = findRuntimes()
for (const runtime of found) for (const transport of runtimeTransports(runtime)) conformanceSuite(transport)

for (const runtime of missing) {
  if (process.env.TSGI_REQUIRE_SERVERS === '1') {
    describe(runtime.name, () => {
      it('is installed', () => {
        throw new Error(`${runtime.name} is missing: ${runtime.install}`)
      })
    })
  } else console.warn(`conformance: ${runtime.name} skipped, not installed: ${runtime.install}`)
}
