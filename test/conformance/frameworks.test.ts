// The framework suite (test/_frameworks.ts): a real Hono app and a real Express app, unchanged, through
// every gateway: in-process, CGI (a spawned bundle adapting the export by its shape), the dev server, and
// the FastCGI responder over TCP and a Unix socket.
import { afterAll } from 'vitest'
import { FRAMEWORKS, frameworkSuite, frameworkTransports } from '../_frameworks.js'
import { removeBundles } from '../_transports.js'

afterAll(removeBundles)

for (const key of ['hono', 'express'] as const) {
  for (const factory of frameworkTransports(FRAMEWORKS[key])) frameworkSuite(factory)
}
