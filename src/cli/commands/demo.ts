// `tsgi demo` (what `npm start` runs in a checkout): the hello app as CGI and as FastCGI behind the front
// on 127.0.0.1:8080, and a page comparing them. Ctrl-C stops the front and the responder it started.
import { fileURLToPath } from 'node:url'
import { startDemo } from '../../front/demo.js'
import { type Command, str, usage } from '../command.js'
import { untilStopped } from '../until-stopped.js'
import { parsePort } from './serve.js'

/** The package root: this file is src/cli/commands/demo.ts or dist/cli/commands/demo.js. */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

export const demoCommand: Command = {
  options: { host: { type: 'string' }, port: { type: 'string' } },
  appOptional: true,
  async run(extra, values, io) {
    if (extra !== '') throw usage(`demo takes no APP (got ${JSON.stringify(extra)})`)
    const demo = await startDemo({
      root: ROOT,
      host: str(values.host) ?? '127.0.0.1',
      port: parsePort(values.port, 8080),
      log: (line) => io.stderr(`${line}\n`),
    })
    io.stdout(
      `tsgi demo: open ${demo.url}\n` +
        `  ${demo.url}cgi-bin/hello  CGI: a new process per request\n` +
        `  ${demo.url}fcgi/hello     FastCGI: the resident responder (pid ${demo.responderPid})\n` +
        'Ctrl-C stops both.\n',
    )
    return untilStopped({ server: demo.front.server, close: demo.close }, io)
  },
}
