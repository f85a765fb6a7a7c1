// Bun and Deno behind real web servers: a `tsgi build --runtime` CGI script under Apache mod_cgid (the
// runtime found on Apache's PATH, as README "Bun and Deno" says), and a responder run by the runtime behind
// nginx from examples/nginx-pool.conf. The app answers with the runtime that serves it.
import { spawnSync } from 'node:child_process'
import { readlinkSync, realpathSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { main } from '../../src/cli/main.js'
import { findRuntimes } from '../_runtimes.js'
import { request } from './_client.js'
import {
  CLEAN_ENV,
  FIXTURES,
  freePort,
  makeRunDir,
  missingBinaries,
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  render,
  runNginx,
  serverDir,
  serverUser,
  serviceUser,
  skipMessage,
  socketDir,
  waitForListen,
} from './_harness.js'
import { type Server, startApache } from './_servers.js'

const APP = join(FIXTURES, 'runtime-app.ts')
const missing = missingBinaries(['apache2', 'nginx'])
const { found, missing: absent } = findRuntimes()
if (missing.length > 0) console.warn(skipMessage('Bun and Deno behind web servers', missing))
if (REQUIRE_SERVERS && absent.length > 0)
  throw new Error(`runtimes missing: ${absent.map((r) => r.install).join('; ')}`)

describe.skipIf(missing.length > 0 && !REQUIRE_SERVERS)('Bun and Deno behind Apache and nginx', () => {
  let runDir = ''
  let apache: Server | undefined
  const procs: Proc[] = []

  beforeAll(async () => {
    runDir = serverDir(makeRunDir())
    const cgiBin = serverDir(join(runDir, 'cgi-bin'))
    for (const runtime of found) {
      const name = runtime.name.toLowerCase()
      const out = join(cgiBin, `app-${name}`)
      const args = ['build', APP, '--out', out, '--runtime', name]
      expect(await main(args, { stdout: () => {}, stderr: (t) => console.error(t), cwd: ROOT })).toBe(0)
    }
    // Apache's PATH (and so its scripts') leads to the runtimes, as a link in /usr/local/bin would.
    const path = [...found.map((r) => join(r.argv[0]!, '..')), CLEAN_ENV.PATH].join(':')
    const shared = { RUNDIR: runDir, SOCKDIR: socketDir(join(runDir, 'tsgi')), DOCROOT: runDir, CGI_BIN: cgiBin }
    apache = await startApache({ ...shared, FCGI_PORT: String(await freePort()) }, {}, { ...CLEAN_ENV, PATH: path })
  }, 60_000)

  afterAll(async () => {
    await apache?.stop()
    for (const proc of procs) await proc.stop()
    if (runDir !== '') removeRunDir(runDir)
  })

  for (const runtime of found) {
    const name = runtime.name.toLowerCase()

    it(`Apache mod_cgid runs a ${runtime.name} CGI script from tsgi build --runtime ${name}`, async () => {
      const response = await request(apache!.port, `/cgi-bin/app-${name}/hello`)
      expect(response.status, response.body.toString()).toBe(200)
      expect(response.body.toString()).toMatch(
        new RegExp(`^${name} \\d+\\.\\d+\\.\\d+; pid \\d+; /cgi-bin/app-${name}/hello\\n$`),
      )
    })

    it(`nginx in front of a FastCGI responder run by ${runtime.name}`, async () => {
      const dir = serverDir(join(runDir, name))
      const sockDir = socketDir(join(dir, 'tsgi'))
      const asRoot = serverUser() !== undefined
      if (asRoot) serviceUser()
      // As root: the README's line, dropping to tsgi on Bun; Deno cannot drop root's groups, so it says so
      // and is started as root here (--allow-root; the README tells users to start it as the service user).
      const owner = asRoot ? ['--socket-owner', 'tsgi:www-data', '--socket-mode', '0660', '--user', 'tsgi'] : []
      const tsgiArgs = [...runtime.argv.slice(1), join(ROOT, 'bin/tsgi.js'), 'fastcgi', APP]
      if (asRoot && name === 'deno') {
        const args = [...tsgiArgs, '--listen', join(sockDir, 'refused.sock'), ...owner]
        const refused = spawnSync(runtime.argv[0]!, args, { encoding: 'utf8', timeout: 30_000 })
        expect(refused.status).not.toBe(0)
        expect(refused.stderr).toContain(
          "this runtime cannot drop root's groups for --user tsgi: start it as that user",
        )
        owner.splice(owner.indexOf('--user'), 2, '--allow-root')
      }
      const args = [
        ...runtime.argv.slice(1),
        join(ROOT, 'bin/tsgi.js'),
        'fastcgi',
        APP,
        '--listen',
        join(sockDir, 'app.sock'),
      ]
      const responder = new Proc(`${name} responder`, runtime.argv[0]!, [...args, ...owner])
      procs.push(responder)
      await waitForListen(join(sockDir, 'app.sock'), responder)
      const port = await freePort()
      const vars = { TSGI: join(ROOT, 'bin/tsgi.js'), PORT: String(port), RUNDIR: dir, SOCKDIR: sockDir, DOCROOT: dir }
      const nginx = await runNginx(
        dir,
        render(join(ROOT, 'examples/nginx-pool.conf'), vars, join(dir, 'nginx.conf')),
        port,
      )
      procs.push(nginx)
      const response = await request(port, '/app/hello?x=1')
      expect(response.status, response.body.toString()).toBe(200)
      expect(response.body.toString()).toMatch(
        new RegExp(`^${name} \\d+\\.\\d+\\.\\d+; pid ${responder.child.pid}; /app/hello\\n$`),
      )
      if (asRoot && name === 'bun') expect(responder.output).toContain(', user tsgi)')
    })
  }

  for (const runtime of found.filter((r) => r.name === 'Deno')) {
    it('Deno runs the process manager: --workers 2, each worker a Deno process, serving behind nginx', async () => {
      const dir = serverDir(join(runDir, 'deno-pool'))
      const sockDir = socketDir(join(dir, 'tsgi'))
      // As root: started as root with --allow-root (Deno cannot drop root's groups, see the test above).
      const owner = serverUser() !== undefined ? ['--socket-owner', 'tsgi:www-data', '--socket-mode', '0660'] : []
      const args = [...runtime.argv.slice(1), join(ROOT, 'bin/tsgi.js'), 'fastcgi', APP]
      const pool = ['--listen', join(sockDir, 'app.sock'), '--workers', '2', '--status-path', '/tsgi-status']
      const manager = new Proc('deno pool', runtime.argv[0]!, [...args, ...pool, ...owner, '--allow-root'])
      procs.push(manager)
      await waitForListen(join(sockDir, 'app.sock'), manager)
      const port = await freePort()
      const vars = { TSGI: join(ROOT, 'bin/tsgi.js'), PORT: String(port), RUNDIR: dir, SOCKDIR: sockDir, DOCROOT: dir }
      procs.push(
        await runNginx(dir, render(join(ROOT, 'examples/nginx-pool.conf'), vars, join(dir, 'nginx.conf')), port),
      )
      // The workers come up after the socket: wait for the status page to count two.
      let status: { workers: number; worker_list: Array<{ pid: number }> } = { workers: 0, worker_list: [] }
      for (let i = 0; i < 100 && status.workers < 2; i++) {
        const response = await request(port, '/tsgi-status')
        if (response.status === 200) status = JSON.parse(response.body.toString())
        else await new Promise((resolve) => setTimeout(resolve, 100))
      }
      expect(status.workers, manager.output).toBe(2)
      const pids = status.worker_list.map((w) => w.pid)
      for (const pid of pids) expect(readlinkSync(`/proc/${pid}/exe`)).toBe(realpathSync(runtime.argv[0]!))
      const response = await request(port, '/app/hello')
      expect(response.status, response.body.toString()).toBe(200)
      const served = /^deno \d+\.\d+\.\d+; pid (\d+);/.exec(response.body.toString())
      expect(pids).toContain(Number(served?.[1]))
    })
  }
})
