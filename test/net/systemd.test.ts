// systemd socket activation, sd_listen_fds(3) semantics (F-32): the environment is read as systemd
// means it (LISTEN_PID names the process the sockets are for, fd 3 the first socket), cleared once the
// socket is taken, and every variant that cannot be served fails with a message saying what to change.
// test/integration/systemd.test.ts runs the responder under systemd-socket-activate.
import { afterEach, describe, expect, it } from 'vitest'
import { inheritedListen, startedAs } from '../../src/gateways/auto.js'
import { parseListen } from '../../src/net/listen.js'
import {
  activatedBySystemd,
  readSystemdSockets,
  requireSystemdSocket,
  SD_LISTEN_FDS_START,
  takeSystemdSocket,
} from '../../src/net/systemd.js'

const PID = 4242
const activated = (extra: Record<string, string> = {}): Record<string, string | undefined> => ({
  LISTEN_PID: String(PID),
  LISTEN_FDS: '1',
  PATH: '/usr/bin:/bin',
  ...extra,
})

describe('reading LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES', () => {
  it('one socket for this pid is fd 3 (SD_LISTEN_FDS_START), with its name when systemd gives one', () => {
    expect(SD_LISTEN_FDS_START).toBe(3)
    expect(readSystemdSockets(activated(), PID)).toEqual({ kind: 'socket', fd: 3, name: undefined })
    expect(readSystemdSockets(activated({ LISTEN_FDNAMES: 'tsgi-app.socket' }), PID)).toEqual({
      kind: 'socket',
      fd: 3,
      name: 'tsgi-app.socket',
    })
  })

  it('LISTEN_PID of another process is ignored: the sockets are not ours (a process that forked, npm)', () => {
    expect(readSystemdSockets(activated(), PID + 1)).toMatchObject({ kind: 'none', reason: 'other' })
    expect(readSystemdSockets(activated({ LISTEN_PID: 'x' }), PID)).toMatchObject({ kind: 'none', reason: 'other' })
    expect(readSystemdSockets(activated({ LISTEN_PID: `0${PID}` }), PID)).toMatchObject({ kind: 'none' })
    expect(activatedBySystemd(activated(), PID + 1)).toBe(false)
  })

  it('no LISTEN_PID, or no LISTEN_FDS: nothing from systemd', () => {
    expect(readSystemdSockets({ LISTEN_FDS: '1' }, PID)).toMatchObject({ kind: 'none', reason: 'unset' })
    expect(readSystemdSockets({ LISTEN_PID: String(PID) }, PID)).toMatchObject({ kind: 'none', reason: 'unset' })
    expect(readSystemdSockets({}, PID)).toMatchObject({ kind: 'none', why: 'LISTEN_PID is not set' })
  })

  it('LISTEN_FDS=0 or garbage for this pid is invalid (sd_listen_fds: -EINVAL), not "no socket"', () => {
    for (const count of ['0', '', 'abc', '1x', '-1', '1.5', ' 1']) {
      expect(readSystemdSockets(activated({ LISTEN_FDS: count }), PID), count).toMatchObject({ kind: 'invalid' })
    }
  })

  it('two sockets are invalid: tsgi serves exactly one, and the message names them', () => {
    const found = readSystemdSockets(activated({ LISTEN_FDS: '2', LISTEN_FDNAMES: 'web:admin' }), PID)
    expect(found).toEqual({
      kind: 'invalid',
      message: expect.stringMatching(
        /^systemd passed 2 sockets, fd 3 \(web\), fd 4 \(admin\); tsgi serves exactly one/,
      ),
    })
    const unnamed = readSystemdSockets(activated({ LISTEN_FDS: '2' }), PID)
    expect(unnamed).toMatchObject({ message: expect.stringContaining('fd 3, fd 4;') })
  })

  it('reading changes nothing', () => {
    const env = activated({ LISTEN_FDNAMES: 'a' })
    readSystemdSockets(env, PID)
    expect(activatedBySystemd(env, PID)).toBe(true)
    expect(env).toEqual(activated({ LISTEN_FDNAMES: 'a' }))
  })
})

describe('takeSystemdSocket: sd_listen_fds(unset_environment=1)', () => {
  it('returns the ListenSpec fd 3 and clears the three variables, nothing else', () => {
    const env = activated({ LISTEN_FDNAMES: 'tsgi-app.socket' })
    expect(takeSystemdSocket(env, PID)).toEqual({ kind: 'fd', fd: 3 })
    expect(env).toEqual({ PATH: '/usr/bin:/bin' })
    expect(takeSystemdSocket(env, PID)).toBeUndefined() // taken once
  })

  it('clears them too when they are not ours, and returns undefined', () => {
    const env = activated({ LISTEN_FDNAMES: 'x' })
    expect(takeSystemdSocket(env, PID + 1)).toBeUndefined()
    expect(env).toEqual({ PATH: '/usr/bin:/bin' })
    expect(takeSystemdSocket({}, PID)).toBeUndefined()
  })

  it('throws ERR_LISTEN for LISTEN_FDS=0, garbage or 2 (fail closed), after clearing them', () => {
    for (const count of ['0', 'garbage', '2']) {
      const env = activated({ LISTEN_FDS: count })
      expect(() => takeSystemdSocket(env, PID), count).toThrow(
        expect.objectContaining({ code: 'ERR_LISTEN', message: expect.stringMatching(/^fcgi: systemd: /) }),
      )
      expect(env).toEqual({ PATH: '/usr/bin:/bin' })
    }
  })
})

describe('requireSystemdSocket (--listen systemd)', () => {
  it('returns the socket when there is one', () => {
    expect(requireSystemdSocket(activated(), PID)).toEqual({ kind: 'fd', fd: 3 })
  })

  it('without one, says how to set up the .socket unit', () => {
    expect(() => requireSystemdSocket({}, PID)).toThrow(
      expect.objectContaining({
        code: 'ERR_LISTEN',
        message: expect.stringMatching(
          /^fcgi: --listen systemd, but systemd passed this process no socket \(LISTEN_PID is not set\): start it from a socket unit .*ListenStream=.*systemd-socket-activate/,
        ),
      }),
    )
  })

  it('with LISTEN_PID of another process, says ExecStart= must run tsgi itself', () => {
    expect(() => requireSystemdSocket(activated(), PID + 1)).toThrow(
      /LISTEN_PID=4242 is not this process \(pid 4243\)\): .*ExecStart= must run tsgi itself, not through npm/,
    )
  })
})

describe('a process started by systemd with a socket', () => {
  it('is FastCGI, never a CGI request, whatever else its environment holds (startedAs)', () => {
    const env = { LISTEN_PID: String(process.pid), LISTEN_FDS: '1', REQUEST_METHOD: 'GET' }
    expect(startedAs(env)).toBe('fastcgi')
    expect(inheritedListen(env)).toBe('systemd')
    // Garbage meant for this process is still systemd's: the responder reports it, CGI never runs.
    expect(startedAs({ ...env, LISTEN_FDS: 'x' })).toBe('fastcgi')
    // Variables inherited from a parent are not ours: an ordinary CGI request.
    expect(startedAs({ ...env, LISTEN_PID: String(process.pid + 1) })).toBe('cgi')
    expect(inheritedListen({ REQUEST_METHOD: 'GET' })).toBe('fd:0')
  })
})

describe("parseListen('systemd') takes the socket from process.env", () => {
  const saved = { pid: process.env.LISTEN_PID, fds: process.env.LISTEN_FDS, names: process.env.LISTEN_FDNAMES }
  afterEach(() => {
    for (const [name, value] of [
      ['LISTEN_PID', saved.pid],
      ['LISTEN_FDS', saved.fds],
      ['LISTEN_FDNAMES', saved.names],
    ] as const) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })

  it('fails without one, takes it once (clearing process.env), and says so when asked twice', () => {
    delete process.env.LISTEN_PID
    delete process.env.LISTEN_FDS
    expect(() => parseListen('systemd')).toThrow(/systemd passed this process no socket \(LISTEN_PID is not set\)/)
    process.env.LISTEN_PID = String(process.pid)
    process.env.LISTEN_FDS = '1'
    process.env.LISTEN_FDNAMES = 'tsgi-app.socket'
    expect(parseListen('systemd')).toEqual({ kind: 'fd', fd: 3 })
    expect([process.env.LISTEN_PID, process.env.LISTEN_FDS, process.env.LISTEN_FDNAMES]).toEqual([
      undefined,
      undefined,
      undefined,
    ])
    expect(() => parseListen('systemd')).toThrow(/this process took the socket systemd passed already \(fd 3\)/)
  })

  it('is listed among the forms a bad address suggests', () => {
    expect(() => parseListen('nonsense')).toThrow(/fd:N or systemd/)
  })
})
