// The libfcgi tools: spawn-fcgi starts the responder with its listening socket on fd 0 (as a process
// supervisor would), and libfcgi's own client, cgi-fcgi, sends it requests built from its environment.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { pattern } from '../fixtures/conformance-app.js'
import { registerCheck } from './_checks.js'
import type { JsonObject } from './_client.js'
import {
  APP,
  CLEAN_ENV,
  findBinary,
  missingBinaries,
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  serverUser,
  skipMessage,
  waitForListen,
} from './_harness.js'
import { declarePath } from './_results.js'

interface CgiFcgiResult {
  status: number | null
  head: string
  body: Buffer
}

/** One request through `cgi-fcgi -bind -connect`: the CGI variables are its whole environment. */
function cgiFcgi(socket: string, vars: Record<string, string>, stdin?: Uint8Array): CgiFcgiResult {
  const run = spawnSync(findBinary('cgi-fcgi') ?? 'cgi-fcgi', ['-bind', '-connect', socket], {
    env: {
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PROTOCOL: 'HTTP/1.1',
      SERVER_NAME: 'localhost',
      SERVER_PORT: '80',
      QUERY_STRING: '',
      ...vars,
    },
    input: stdin,
    maxBuffer: 16 * 1024 * 1024,
    timeout: 20_000,
  })
  const out = run.stdout
  const end = out.indexOf('\r\n\r\n')
  return { status: run.status, head: out.subarray(0, Math.max(end, 0)).toString('latin1'), body: out.subarray(end + 4) }
}

export function defineSpawnFcgi(runDir: () => string): void {
  describe('spawn-fcgi and cgi-fcgi (libfcgi)', () => {
    const missing = missingBinaries(['spawn-fcgi', 'cgi-fcgi'])
    if (missing.length > 0) console.warn(skipMessage('spawn-fcgi/cgi-fcgi', missing))
    const spec = {
      id: 'libfcgi',
      skip: missing.length > 0 && !REQUIRE_SERVERS ? `${missing.join(', ')} not installed` : undefined,
    }
    declarePath(
      {
        id: spec.id,
        server: 'spawn-fcgi 1.6 + cgi-fcgi',
        module: 'libfcgi 2.4',
        mode: 'spawned, socket on fd 0; libfcgi client',
        notes: ['cgi-fcgi sends its whole environment as PARAMS; exit code = appStatus'],
      },
      3,
    )
    let responder: Proc | undefined
    const socket = (): string => join(runDir(), 'spawn-fcgi.sock')

    beforeAll(async () => {
      if (missing.length > 0) {
        if (REQUIRE_SERVERS)
          throw new Error(skipMessage('spawn-fcgi', missing).replace('skipped', 'TSGI_REQUIRE_SERVERS=1 but'))
        return
      }
      // -n: spawn-fcgi creates the socket, puts it on fd 0 and execs node in its place (no fork).
      const user = serverUser()
      responder = new Proc(
        'spawn-fcgi',
        findBinary('spawn-fcgi') ?? 'spawn-fcgi',
        ['-n', '-s', socket(), '-M', '0600', '--', join(ROOT, 'bin/tsgi.js'), 'fastcgi', APP],
        { env: CLEAN_ENV, cwd: runDir(), ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }) },
      )
      await waitForListen(socket(), responder)
    })
    afterAll(async () => {
      await responder?.stop()
    })

    registerCheck(spec, 'GET through cgi-fcgi', async () => {
      const result = cgiFcgi(socket(), {
        REQUEST_METHOD: 'GET',
        SCRIPT_NAME: '/spawn',
        PATH_INFO: '/env/x',
        QUERY_STRING: 'a=1',
      })
      expect(result.status, result.head).toBe(0)
      const { environ, process: proc } = JSON.parse(result.body.toString('utf8')) as JsonObject
      expect([environ.SCRIPT_NAME, environ.PATH_INFO, environ.QUERY_STRING, proc.REQUEST_METHOD]).toEqual([
        '/spawn',
        '/env/x',
        'a=1',
        null,
      ])
    })
    registerCheck(spec, 'POST body on cgi-fcgi stdin', async () => {
      const body = pattern(0, 1024 * 1024)
      const result = cgiFcgi(
        socket(),
        { REQUEST_METHOD: 'POST', SCRIPT_NAME: '/spawn', PATH_INFO: '/echo', CONTENT_LENGTH: String(body.byteLength) },
        body,
      )
      expect(result.status, result.head).toBe(0)
      const sha256 = createHash('sha256').update(body).digest('hex')
      expect(JSON.parse(result.body.toString('utf8'))).toMatchObject({
        length: body.byteLength,
        sha256,
        CONTENT_LENGTH: String(body.byteLength),
      })
    })
    registerCheck(spec, 'SIGTERM: exit 0', async () => {
      expect(await responder?.stop(), responder?.output).toBe(0)
    })
  })
}
