// The package version, for SERVER_SOFTWARE and `tsgi --version`. Read from package.json, which sits two
// levels up both from src/server/ (tsx, tests) and from dist/server/ (the build).
import { readFileSync } from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0'
  } catch {
    return '0.0.0'
  }
}

export const VERSION: string = readVersion()
export const SERVER_SOFTWARE = `tsgi/${VERSION}`
