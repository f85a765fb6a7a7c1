// Where the responder listens and who may talk to it: Unix socket permissions, stale sockets, files that
// are not ours (S-16), loopback by default, and the FCGI_WEB_SERVER_ADDRS allow-list (spec §3.2, F-28, S-15).
import { spawnSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createConnection, createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanEnv } from '../../_transports.js'
import { ended, healthy, RawPeer, request, responder, responseOf, vars } from './_raw.js'

let dir: string
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsgi-fcgi-listen-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let n = 0
const sockPath = (): string => join(dir, `s${++n}.sock`)

/** Whether this machine can listen on ::1 (containers without IPv6 cannot); the IPv6 tests skip otherwise. */
const ipv6Loopback = await new Promise<boolean>((resolve) => {
  const probe: Server = createServer()
  probe.once('error', () => resolve(false))
  probe.listen({ host: '::1', port: 0 }, () => probe.close(() => resolve(true)))
})
if (!ipv6Loopback)
  console.warn(
    'listen.test.ts: no IPv6 loopback (::1) on this machine: the IPv6 FCGI_WEB_SERVER_ADDRS tests are skipped',
  )

describe('Unix socket (S-16)', () => {
  it('is created with mode 0600 by default, serves, and is unlinked on close', async () => {
    const path = sockPath()
    const server = await responder({ listen: path })
    expect(lstatSync(path).isSocket()).toBe(true)
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(await healthy(path)).toBe('200 Hello world!\n')
    await server.close()
    expect(existsSync(path)).toBe(false)
  })

  it('takes the requested mode (socketMode 0660)', async () => {
    const path = sockPath()
    const server = await responder({ listen: path, socketMode: 0o660 })
    expect(statSync(path).mode & 0o777).toBe(0o660)
    await server.close()
  })

  it('replaces a stale socket nobody listens on (a killed responder left it behind)', async () => {
    const path = sockPath()
    const script = "require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))"
    spawnSync(process.execPath, ['-e', script, path], { env: cleanEnv() })
    expect(lstatSync(path).isSocket()).toBe(true)
    const server = await responder({ listen: path })
    expect(await healthy(path)).toBe('200 Hello world!\n')
    await server.close()
  })

  it('never replaces a regular file', async () => {
    const path = sockPath()
    writeFileSync(path, 'precious data\n')
    await expect(responder({ listen: path })).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: expect.stringContaining('not a socket'),
    })
    expect(readFileSync(path, 'utf8')).toBe('precious data\n')
  })

  it('never takes over a socket another server is listening on', async () => {
    const path = sockPath()
    const other = createServer((socket) => socket.end())
    await new Promise<void>((resolve) => other.listen(path, resolve))
    try {
      await expect(responder({ listen: path })).rejects.toMatchObject({
        code: 'ERR_LISTEN',
        message: expect.stringContaining('in use'),
      })
    } finally {
      await new Promise((resolve) => other.close(resolve))
    }
  })
})

describe('TCP', () => {
  it('refuses a public address unless allowPublic (S-16)', async () => {
    await expect(responder({ listen: '0.0.0.0:0' })).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: expect.stringContaining('public address'),
    })
  })

  it('reports the bound port for port 0', async () => {
    const server = await responder()
    expect(server.port).toBeGreaterThan(0)
    expect(server.address).toBe(`127.0.0.1:${server.port}`)
    await server.close()
  })
})

describe('mistakes in --listen say what is wrong', () => {
  it('a socket path in a directory that does not exist', async () => {
    const path = join(dir, 'missing-dir', 'app.sock')
    await expect(responder({ listen: path })).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: `fcgi: cannot listen on ${path}: the directory ${join(dir, 'missing-dir')} does not exist`,
    })
  })

  it.each([
    ['127.0.0.1:99999', 'fcgi: port 99999 in "127.0.0.1:99999" is out of range (0 to 65535)'],
    ['70000', 'fcgi: port 70000 in "70000" is out of range (0 to 65535)'],
    ['localhost:http', 'fcgi: cannot parse listen address "localhost:http"'],
  ])('%s', async (listen, message) => {
    await expect(responder({ listen })).rejects.toMatchObject({
      code: 'ERR_USAGE',
      message: expect.stringContaining(message),
    })
  })

  it('fd:N that is not open, not a socket, or not a listening socket', async () => {
    const error = (listen: string) => responder({ listen }).catch((e: unknown) => (e as Error).message)
    expect(await error('fd:987')).toBe('fcgi: cannot listen on fd 987: no file descriptor 987 is open')
    const file = openSync(join(dir, 'plain-file'), 'w')
    try {
      expect(await error(`fd:${file}`)).toMatch(
        new RegExp(`^fcgi: cannot listen on fd ${file}: it is not a socket \\(it is .*plain-file\\)$`),
      )
    } finally {
      closeSync(file)
    }
    const server = await responder()
    const client = createConnection(server.port!)
    await new Promise((resolve) => client.once('connect', resolve))
    try {
      const fd = (client as unknown as { _handle: { fd: number } })._handle.fd
      expect(await error(`fd:${fd}`)).toContain('it is a connected socket, not a listening one')
    } finally {
      client.destroy()
      await server.close()
    }
  })
})

describe('FCGI_WEB_SERVER_ADDRS (spec §3.2, F-28, S-15)', () => {
  it('a peer not on the list is closed before any byte is read', async () => {
    const server = await responder({ allowedAddresses: '127.0.0.2' })
    try {
      const peer = await RawPeer.open(server.address)
      peer.send(request(1, vars('/hello')))
      await peer.untilClosed()
      expect(peer.bytes.length).toBe(0)
      expect(server.logs.join('\n')).toMatch(/refused connection from 127\.0\.0\.1 \(FCGI_WEB_SERVER_ADDRS\)/)
      expect(server.stats.requests).toBe(0)
    } finally {
      await server.close()
    }
  })

  it('a peer on the list is served (the list may hold several addresses and spaces)', async () => {
    const server = await responder({ allowedAddresses: '127.0.0.2, 127.0.0.1' })
    expect(await healthy(server.address)).toBe('200 Hello world!\n')
    await server.close()
  })

  it('is read from the environment by default', async () => {
    const saved = process.env.FCGI_WEB_SERVER_ADDRS
    process.env.FCGI_WEB_SERVER_ADDRS = '127.0.0.3'
    try {
      const server = await responder()
      const peer = await RawPeer.open(server.address)
      peer.send(request(1, vars('/hello')))
      await peer.untilClosed()
      expect(peer.bytes.length).toBe(0)
      await server.close()
    } finally {
      if (saved === undefined) delete process.env.FCGI_WEB_SERVER_ADDRS
      else process.env.FCGI_WEB_SERVER_ADDRS = saved
    }
  })

  it('a malformed list fails at start-up (closed, not open)', async () => {
    await expect(responder({ allowedAddresses: '127.0.0.1,not-an-address' })).rejects.toMatchObject({
      code: 'ERR_USAGE',
    })
  })

  it('Unix-socket peers pass as with libfcgi, and are refused with strictTransport (the spec reading)', async () => {
    const lenient = await responder({ listen: sockPath(), allowedAddresses: '127.0.0.1' })
    expect(await healthy(lenient.address)).toBe('200 Hello world!\n')
    await lenient.close()
    const strict = await responder({ listen: sockPath(), allowedAddresses: '127.0.0.1', strictTransport: true })
    const peer = await RawPeer.open(strict.address)
    peer.send(request(1, vars('/hello')))
    await peer.untilClosed()
    expect(peer.bytes.length).toBe(0)
    await strict.close()
  })

  it.skipIf(!ipv6Loopback)(
    'F-28/S-15: an IPv6 peer (::1) on the list is served (skipped without IPv6 loopback)',
    async () => {
      const server = await responder({ listen: '[::1]:0', allowedAddresses: '::1' })
      try {
        expect(server.address).toBe(`[::1]:${server.port}`)
        expect(await healthy(server.address)).toBe('200 Hello world!\n')
        const peer = await RawPeer.open(server.address)
        expect(peer.socket.remoteAddress).toBe('::1')
        peer.send(request(1, vars('/hello')))
        expect(responseOf(await peer.until(ended(1)), 1).status).toBe('200 OK')
      } finally {
        await server.close()
      }
    },
  )

  it.skipIf(!ipv6Loopback)(
    'F-28/S-15: an IPv6 peer (::1) not on an IPv4-only list is closed before any byte is read (skipped without IPv6 loopback)',
    async () => {
      const server = await responder({ listen: '[::1]:0', allowedAddresses: '127.0.0.1' })
      try {
        const peer = await RawPeer.open(server.address)
        peer.send(request(1, vars('/hello')))
        await peer.untilClosed()
        expect(peer.bytes.length).toBe(0)
        expect(server.logs.join('\n')).toMatch(/refused connection from ::1 \(FCGI_WEB_SERVER_ADDRS\)/)
        expect(server.stats).toMatchObject({ connections: 0, requests: 0 })
      } finally {
        await server.close()
      }
    },
  )

  it('an allowed TCP peer still gets the full protocol', async () => {
    const server = await responder({ allowedAddresses: '127.0.0.1' })
    const peer = await RawPeer.open(server.address)
    peer.send(request(1, vars('/status/418')))
    const records = await peer.until(ended(1))
    expect(responseOf(records, 1).status).toBe("418 I'm a teapot")
    await server.close()
  })
})
