// What Express users run today: the same Express app on node:http. Usage: node express-node-server.mjs
// PORT|/path.sock; prints "listening ADDRESS" once ready.
import { createServer } from 'node:http'
import app from './express-hello.js'
import { listenAndSay } from './listen.js'

listenAndSay(createServer(app))
