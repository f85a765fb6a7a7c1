// src/version.ts is a constant (no file read at start-up): it must say what package.json says.
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'
import { SERVER_SOFTWARE, VERSION } from '../src/version.js'

it('VERSION matches package.json', () => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  expect(VERSION).toBe(pkg.version)
  expect(SERVER_SOFTWARE).toBe(`tsgi/${pkg.version}`)
})
