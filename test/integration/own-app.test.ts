// A user's own app, as the README's "Use it in your project" says: npm pack this checkout, install the
// tarball into a fresh project (npm init -y: "type": "commonjs"), write a TypeScript app there, `tsgi build`
// it into a CGI script that real Apache mod_cgid runs, and `tsgi fastcgi` it on a Unix socket behind real
// nginx: started as root, the socket tsgi:www-data 0660, the responder dropping to the tsgi user.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { headerValues, request } from './_client.js'
import {
  CLEAN_ENV,
  freePort,
  makeRunDir,
  missingBinaries,
  Proc,
  REQUIRE_SERVERS,
  ROOT,
  removeRunDir,
  serverDir,
  serverUser,
  skipMessage,
  socketDir,
  waitForListen,
} from './_harness.js'
import { type Server, type Shared, startApache, startNginx } from './_servers.js'

const APP = `// A user's app: a query parameter and a POSTed form, answered in JSON.
import type { Environ, StartResponse } from 'tsgi'

export default async function app(environ: Environ, startResponse: StartResponse) {
  const query = new URLSearchParams(environ.QUERY_STRING)
  let form: Record<string, string> = {}
  if (environ.REQUEST_METHOD === 'POST') {
    const body = new TextDecoder().decode(await environ['tsgi.input'].read())
    form = Object.fromEntries(new URLSearchParams(body))
  }
  const via = environ['tsgi.run_once'] ? 'cgi' : 'fastcgi'
  startResponse('200 OK', [['Content-Type', 'application/json']])
  return [JSON.stringify({ name: query.get('name'), form, via, uid: process.getuid?.() })]
}
`

const missing = missingBinaries(['apache2', 'nginx', 'npm'])
const asRoot = serverUser() !== undefined
const env = { ...CLEAN_ENV, HOME: process.env.HOME ?? '/root' }
const version = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

/** Runs a command a user would type; throws with its output when it fails. */
function sh(cwd: string, command: string, args: string[]): string {
  const run = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 180_000 })
  if (run.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${run.status}:\n${run.stdout}\n${run.stderr}`)
  return run.stdout
}

describe.skipIf(missing.length > 0 && !REQUIRE_SERVERS)('your own app, installed from a tarball', () => {
  let project = ''
  let tarball = ''
  const shared: Shared = { RUNDIR: '', SOCKDIR: '', DOCROOT: '', CGI_BIN: '', FCGI_PORT: '' }
  const running: Array<Server | Proc> = []
  let apache: Server | undefined
  let nginx: Server | undefined

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(skipMessage('your own app', missing).replace('skipped', 'but'))
    const packs = mkdtempSync(join(tmpdir(), 'tsgi-pack-'))
    tarball = join(
      packs,
      sh(ROOT, 'npm', ['pack', '--pack-destination', packs, '--loglevel=warn']).trim().split('\n').pop()!,
    )
    project = mkdtempSync(join(tmpdir(), 'tsgi-own-app-'))
    chmodSync(project, 0o755) // the web servers' and the responder's users read it
    sh(project, 'npm', ['init', '-y'])
    const deps = [tarball, `esbuild@${version('esbuild')}`, `tsx@${version('tsx')}`]
    sh(project, 'npm', ['install', ...deps, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'])
    writeFileSync(join(project, 'app.ts'), APP)
    sh(project, 'npx', ['tsgi', 'build', 'app.ts', '--out', 'cgi-bin/app'])

    shared.RUNDIR = serverDir(makeRunDir())
    shared.SOCKDIR = socketDir(join(shared.RUNDIR, 'tsgi'))
    shared.DOCROOT = serverDir(join(shared.RUNDIR, 'htdocs'))
    shared.CGI_BIN = join(project, 'cgi-bin')
    shared.FCGI_PORT = String(await freePort())
    const tsgi = join(project, 'node_modules/.bin/tsgi')
    const socket = join(shared.SOCKDIR, 'tsgi.sock')
    const owner = asRoot ? ['--socket-owner', 'tsgi:www-data', '--socket-mode', '0660', '--user', 'tsgi'] : []
    const responder = new Proc('tsgi fastcgi', tsgi, ['fastcgi', 'app.ts', '--listen', socket, ...owner], {
      cwd: project,
      env,
    })
    running.push(responder)
    await waitForListen(socket, responder)
    apache = await startApache(shared, { TSGI: tsgi, APP: join(project, 'app.ts') })
    running.push(apache)
    nginx = await startNginx(shared, { TSGI: tsgi, APP: join(project, 'app.ts') })
    running.push(nginx)
  }, 300_000)

  afterAll(async () => {
    for (const server of running.reverse()) await server.stop()
    if (shared.RUNDIR !== '') removeRunDir(shared.RUNDIR)
    if (project !== '') rmSync(project, { recursive: true, force: true })
    if (tarball !== '') rmSync(dirname(tarball), { recursive: true, force: true })
  })

  it('the tarball carries the build, the command and the recipes', () => {
    const listing = sh(ROOT, 'tar', ['-tzf', tarball])
    for (const file of ['dist/index.js', 'dist/cli/main.js', 'dist/gateways/cgi/run.js', 'bin/tsgi.js'])
      expect(listing).toContain(`package/${file}`)
    for (const file of ['apache.conf.example', 'examples/nginx.conf', 'examples/lighttpd.conf'])
      expect(listing).toContain(`package/${file}`)
    expect(JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')).type).toBe('commonjs')
  })

  it('Apache mod_cgid runs the built script: a query, and a POSTed form', async () => {
    const get = await request(apache!.port, '/cgi-bin/app?name=ann')
    expect([get.status, headerValues(get, 'content-type')]).toEqual([200, ['application/json']])
    expect(JSON.parse(get.body.toString())).toMatchObject({ name: 'ann', form: {}, via: 'cgi' })
    const post = await request(apache!.port, '/cgi-bin/app?name=bo', {
      method: 'POST',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: Buffer.from('city=Caf%C3%A9+du+Port&n=2'),
    })
    expect(JSON.parse(post.body.toString())).toMatchObject({ name: 'bo', form: { city: 'Café du Port', n: '2' } })
  })

  it('nginx reaches the responder on its Unix socket, which only the web server group may use', async () => {
    const post = await request(nginx!.port, '/ngx-uds/x?name=cy', {
      method: 'POST',
      headers: [['Content-Type', 'application/x-www-form-urlencoded']],
      body: Buffer.from('a=1'),
    })
    expect(post.status, post.body.toString()).toBe(200)
    const answer = JSON.parse(post.body.toString()) as { uid: number }
    expect(answer).toMatchObject({ name: 'cy', form: { a: '1' }, via: 'fastcgi' })
    if (!asRoot) return
    const passwd = readFileSync('/etc/passwd', 'utf8')
    const tsgiUid = Number(/^tsgi:[^:]*:(\d+):/m.exec(passwd)![1])
    const wwwGid = Number(/^www-data:[^:]*:\d+:(\d+):/m.exec(passwd)![1])
    const stat = statSync(join(shared.SOCKDIR, 'tsgi.sock'))
    expect([stat.uid, stat.gid, stat.mode & 0o777]).toEqual([tsgiUid, wwwGid, 0o660])
    expect(answer.uid).toBe(tsgiUid) // the app runs as the service user, not root
  })
})
