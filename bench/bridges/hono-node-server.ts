// What Hono users run today: the same Hono app on @hono/node-server. Usage: node hono-node-server.mjs
// PORT|/path.sock; prints "listening ADDRESS" once ready.

import type { Server } from 'node:http'
import { createAdaptorServer } from '@hono/node-server'
import app from './hono-hello.js'
import { listenAndSay } from './listen.js'

listenAndSay(createAdaptorServer({ fetch: app.fetch }) as Server)
