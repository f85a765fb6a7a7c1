// The conformance suite (test/_conformance.ts) through the FastCGI responder: TCP, a Unix socket, and a
// listening socket inherited on fd 0 by a spawned process (FastCGI spec §2.2), plus the in-process baseline.
import { afterAll } from 'vitest'
import { conformanceSuite } from '../_conformance.js'
import { fastcgiFd0, fastcgiTcp, fastcgiUnix, inProcess, removeBundles } from '../_transports.js'

afterAll(removeBundles)

conformanceSuite(inProcess)
conformanceSuite(fastcgiTcp)
conformanceSuite(fastcgiUnix)
conformanceSuite(fastcgiFd0)
