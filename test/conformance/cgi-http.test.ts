// The same conformance suite through the other two gateways: the CGI adapter (a bundled script spawned
// per request with a clean environment) and the dev HTTP server.
import { afterAll } from 'vitest'
import { conformanceSuite } from '../_conformance.js'
import { cgi, devServer, removeBundles } from '../_transports.js'

afterAll(removeBundles)

conformanceSuite(cgi)
conformanceSuite(devServer)
