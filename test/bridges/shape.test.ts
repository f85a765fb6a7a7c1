// Which bridge an export goes through (src/bridges/shape.ts): what the CLI, `tsgi build` scripts and the
// framework suite's CGI scripts rely on to serve Hono and Express apps unchanged.
import { describe, expect, it } from 'vitest'
import { adapt, shapeOf } from '../../src/bridges/shape.js'
import { makeTransports } from '../_transports.js'
import expressApp from '../fixtures/frameworks/express-app.js'
import fetchHandler from '../fixtures/frameworks/fetch-handler.js'
import honoApp from '../fixtures/frameworks/hono-app.js'
import nodeListener from '../fixtures/frameworks/node-listener.js'

const tsgiApp = (_environ: unknown, startResponse: (status: string, headers: Array<[string, string]>) => void) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']])
  return ['tsgi\n']
}

describe('shapeOf', () => {
  it('a Hono app is a Fetch app, an Express app a Node app, a plain function a TSGI app', () => {
    expect(shapeOf(honoApp)).toBe('fetch')
    expect(shapeOf({ fetch: fetchHandler })).toBe('fetch')
    expect(shapeOf(expressApp)).toBe('node')
    expect(shapeOf(tsgiApp)).toBe('tsgi')
    // A bare (request) or (req, res, next) function looks like a TSGI app: --shape says otherwise.
    expect(shapeOf(fetchHandler)).toBe('tsgi')
    expect(shapeOf(nodeListener)).toBe('tsgi')
  })

  it('--shape decides for a bare function, and refuses what cannot be that shape', () => {
    expect(shapeOf(fetchHandler, 'fetch')).toBe('fetch')
    expect(shapeOf(nodeListener, 'node')).toBe('node')
    expect(shapeOf(honoApp, 'node')).toBeUndefined() // an object: no listener
    expect(shapeOf({ fetch: 1 }, 'fetch')).toBeUndefined()
    expect(shapeOf('app')).toBeUndefined()
  })
})

describe('adapt', () => {
  it('serves each shape: Hono and Express through their bridges, mounted below SCRIPT_NAME', async () => {
    for (const value of [honoApp, expressApp]) {
      const app = await adapt(value, shapeOf(value)!, { stripScriptName: true })
      const t = await makeTransports({ app }).inProcess.start()
      const r = await t.send({ path: '/users/3' }) // SCRIPT_NAME /app, PATH_INFO /users/3
      expect([r.status, r.body.toString()]).toEqual([200, '{"id":"3","q":null}'])
      await t.close()
    }
    expect(await adapt(tsgiApp, 'tsgi')).toBe(tsgiApp)
  })
})
