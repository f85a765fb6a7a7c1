// What web servers send against RFC 3875 and how the environ builder puts it right (src/protocol/cgi/repair.ts):
// one row per server quirk, through buildEnviron as every gateway calls it, each citing its docs/checklist.md id.
import { describe, expect, it } from 'vitest'
import { BodyInput } from '../../../src/core/input.js'
import { buildEnviron, type CgiVars } from '../../../src/protocol/cgi/environ.js'
import { serverNameOnly } from '../../../src/protocol/cgi/repair.js'

interface Row {
  server: string
  rule: string
  id: string
  vars: CgiVars
  expect: Record<string, string | undefined>
}

const POST = { REQUEST_METHOD: 'POST', SERVER_PROTOCOL: 'HTTP/1.1' }
const GET = { REQUEST_METHOD: 'GET', SERVER_PROTOCOL: 'HTTP/1.1' }

const ROWS: Row[] = [
  {
    server: 'Caddy 2.6',
    rule: 'CONTENT_LENGTH "-1" for a streamed chunked body: no CONTENT_LENGTH, the body is read to its end',
    id: 'C-23',
    vars: { ...POST, CONTENT_LENGTH: '-1' },
    expect: { CONTENT_LENGTH: undefined },
  },
  {
    server: 'HAProxy 2.6',
    rule: 'SERVER_NAME "host:port" loses the port',
    id: 'C-24',
    vars: { ...GET, SERVER_NAME: '127.0.0.1:8080', SERVER_PORT: '8080' },
    expect: { SERVER_NAME: '127.0.0.1', SERVER_PORT: '8080' },
  },
  {
    server: 'HAProxy 2.6',
    rule: 'SERVER_NAME "[::1]:8080" keeps the brackets',
    id: 'C-24',
    vars: { ...GET, SERVER_NAME: '[::1]:8080' },
    expect: { SERVER_NAME: '[::1]' },
  },
  {
    server: 'any',
    rule: 'a bare IPv6 SERVER_NAME is not a name with a port',
    id: 'C-24',
    vars: { ...GET, SERVER_NAME: '::1' },
    expect: { SERVER_NAME: '::1' },
  },
  {
    server: 'h2o 2.2 with setenv SCRIPT_NAME',
    rule: 'SCRIPT_NAME "" then the mount, PATH_INFO the whole path: the mount comes off PATH_INFO',
    id: 'C-25',
    vars: [
      ['REQUEST_METHOD', 'GET'],
      ['SCRIPT_NAME', ''],
      ['PATH_INFO', '/h2/env/café'],
      ['REQUEST_URI', '/h2/env/caf%C3%A9?q=1'],
      ['SCRIPT_NAME', '/h2'],
    ],
    expect: { SCRIPT_NAME: '/h2', PATH_INFO: '/env/café' },
  },
  {
    server: 'h2o 2.2 with setenv SCRIPT_NAME',
    rule: 'the mount itself: PATH_INFO ""',
    id: 'C-25',
    vars: { ...GET, SCRIPT_NAME: '/h2', PATH_INFO: '/h2', REQUEST_URI: '/h2' },
    expect: { SCRIPT_NAME: '/h2', PATH_INFO: '' },
  },
  {
    server: 'h2o 2.2 without setenv',
    rule: 'SCRIPT_NAME "", PATH_INFO the whole path: the app is mounted at /',
    id: 'C-25',
    vars: { ...GET, SCRIPT_NAME: '', PATH_INFO: '/h2/env', REQUEST_URI: '/h2/env' },
    expect: { SCRIPT_NAME: '', PATH_INFO: '/h2/env' },
  },
  {
    server: 'nginx',
    rule: 'a path that repeats the mount (/app/app/x) is split as the server split it',
    id: 'C-25',
    vars: { ...GET, SCRIPT_NAME: '/app', PATH_INFO: '/app/x', REQUEST_URI: '/app/app/x' },
    expect: { SCRIPT_NAME: '/app', PATH_INFO: '/app/x' },
  },
  {
    server: 'any',
    rule: "PATH_INFO that only starts with the mount's letters (/h2x) is left alone",
    id: 'C-25',
    vars: { ...GET, SCRIPT_NAME: '/h2', PATH_INFO: '/h2x', REQUEST_URI: '/h2x' },
    expect: { SCRIPT_NAME: '/h2', PATH_INFO: '/h2x' },
  },
  {
    server: 'any',
    rule: 'a REQUEST_URI that is not valid percent-encoding changes nothing',
    id: 'C-25',
    vars: { ...GET, SCRIPT_NAME: '/h2', PATH_INFO: '/h2/%', REQUEST_URI: '/h2/%' },
    expect: { SCRIPT_NAME: '/h2', PATH_INFO: '/h2/%' },
  },
]

describe('buildEnviron: what web servers send against RFC 3875', () => {
  it.each(ROWS)('$id, $server: $rule', ({ vars, expect: expected }) => {
    const environ = buildEnviron(vars, {
      input: BodyInput.empty(),
      errors: { write: () => {} },
      signal: new AbortController().signal,
      multithread: false,
      multiprocess: true,
      runOnce: false,
    })
    for (const [key, value] of Object.entries(expected)) expect(environ[key], key).toBe(value)
  })
})

describe('serverNameOnly (C-24)', () => {
  it.each([
    ['example.org', 'example.org'],
    ['example.org:80', 'example.org'],
    ['example.org:', 'example.org'],
    ['example.org:x', 'example.org:x'],
    ['[::1]', '[::1]'],
    ['[::1]:443', '[::1]'],
    ['fe80::1', 'fe80::1'],
  ])('%j gives %j', (name, expected) => {
    expect(serverNameOnly(name)).toBe(expected)
  })
})
