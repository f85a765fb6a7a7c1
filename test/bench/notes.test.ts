// The bench's notes on rows that did not answer 2xx: one line per status, naming the rows, with the
// --strip-script-name hint where a 404 is what an app written for / gives behind a prefix.
import { describe, expect, it } from 'vitest'
import { statusNotes } from '../../src/bench/results.js'
import type { BenchOptions, Row } from '../../src/bench/types.js'

const options = (strip: boolean): BenchOptions =>
  ({ path: '/json', app: { path: 'app.ts', exportName: 'default', stripScriptName: strip } }) as unknown as BenchOptions
const rows = (...list: Array<[id: string, name: string, status: string]>): Row[] =>
  list.map(([id, name, status]) => ({ id, name, status }) as unknown as Row)

describe('statusNotes', () => {
  it('one note for every row with the same status, with the hint when nothing shows the app answers /', () => {
    const notes = statusNotes(
      options(false),
      rows(['nginx-fastcgi', 'nginx fastcgi (node)', '404'], ['cgi-build', 'cgi build (bun)', '404']),
    )
    expect(notes).toEqual([
      'nginx fastcgi (node), cgi build (bun) answer 404 to GET /json (mounted below a prefix there, an app written for / wants --strip-script-name)',
    ])
  })

  it('no hint with --strip-script-name, or when the in-process row (at /) also answered 404', () => {
    expect(statusNotes(options(true), rows(['fastcgi', 'fastcgi', '404']))).toEqual([
      'fastcgi answers 404 to GET /json',
    ])
    const both = rows(['in-process', 'in-process', '404'], ['fastcgi', 'fastcgi', '404'])
    expect(statusNotes(options(false), both)).toEqual(['in-process, fastcgi answer 404 to GET /json'])
  })

  it('rows that answered 2xx give no note; other statuses get their own line', () => {
    const mixed = rows(
      ['in-process', 'in-process', '200'],
      ['fastcgi', 'fastcgi', '500'],
      ['dev-server', 'dev server', '404'],
    )
    expect(statusNotes(options(false), mixed)).toEqual([
      'fastcgi answers 500 to GET /json',
      'dev server answers 404 to GET /json (mounted below a prefix there, an app written for / wants --strip-script-name)',
    ])
  })
})
