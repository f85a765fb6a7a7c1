// The manager's arithmetic and the command line's units: jitter stays in its range, backoff doubles up to
// its cap, heartbeats come often enough for the request timeout, and the request line names the request.
import { describe, expect, it } from 'vitest'
import { parseBytes, parseDuration } from '../../src/cli/units.js'
import { requestLine } from '../../src/pm/meter.js'
import { backoffMs, heartbeatMs, requestLimit } from '../../src/pm/options.js'

describe('pm options', () => {
  it('--max-requests plus a jitter drawn per worker, within [N, N + jitter]', () => {
    expect(requestLimit({ maxRequests: 0, maxRequestsJitter: 50 })).toBe(0)
    expect(requestLimit({ maxRequests: 1000, maxRequestsJitter: 100 }, () => 0)).toBe(1000)
    expect(requestLimit({ maxRequests: 1000, maxRequestsJitter: 100 }, () => 0.999999)).toBe(1100)
    const drawn = new Set(Array.from({ length: 200 }, () => requestLimit({ maxRequests: 10, maxRequestsJitter: 5 })))
    expect([...drawn].every((n) => n >= 10 && n <= 15)).toBe(true)
    expect(drawn.size).toBeGreaterThan(3)
  })

  it('backoff: 100 ms, doubling per recent death, at most 10 s', () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([100, 200, 400, 800])
    expect(backoffMs(30)).toBe(10_000)
  })

  it('heartbeats: every second, or five per request timeout when that is shorter', () => {
    expect(heartbeatMs({ requestTimeoutMs: 0 })).toBe(1000)
    expect(heartbeatMs({ requestTimeoutMs: 30_000 })).toBe(1000)
    expect(heartbeatMs({ requestTimeoutMs: 1000 })).toBe(200)
    expect(heartbeatMs({ requestTimeoutMs: 100 })).toBe(50)
  })

  it('a request line from PARAMS: REQUEST_URI, else SCRIPT_NAME + PATH_INFO + QUERY_STRING', () => {
    expect(
      requestLine([
        ['REQUEST_METHOD', 'POST'],
        ['REQUEST_URI', '/a?b=1'],
      ]),
    ).toBe('POST /a?b=1')
    const parts: Array<[string, string]> = [
      ['PATH_INFO', '/x'],
      ['SCRIPT_NAME', '/app'],
      ['QUERY_STRING', 'q=2'],
    ]
    expect(requestLine([['REQUEST_METHOD', 'GET'], ...parts])).toBe('GET /app/x?q=2')
    expect(requestLine([['REQUEST_URI', `/${'a'.repeat(300)}`]])).toMatch(/^- \/a{199}\.\.\.$/)
  })
})

describe('command-line units', () => {
  it('sizes and durations, with the flag named in the error', () => {
    expect(parseBytes('300m', '--max-rss')).toBe(300 * 1024 * 1024)
    expect(parseBytes('1GiB', '--max-rss')).toBe(1024 ** 3)
    expect(parseDuration('30s', '--request-timeout')).toBe(30_000)
    expect(parseDuration('30', '--request-timeout')).toBe(30_000)
    expect(parseDuration('250ms', '--slow-log')).toBe(250)
    expect(parseDuration('1.5m', '--slow-log')).toBe(90_000)
    expect(() => parseDuration('soon', '--slow-log')).toThrow(/--slow-log must be a duration like 30s/)
    expect(() => parseBytes('lots', '--max-rss')).toThrow(/--max-rss must be bytes like 10m/)
  })
})
