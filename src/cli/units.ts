// Sizes and durations on the command line: `10m`, `512MiB`, `1g`; `30s`, `500ms`, `2m` (a bare number of
// seconds, as PHP-FPM's request_terminate_timeout takes it).
import { TsgiError } from '../errors.js'

const SIZE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const

export function parseBytes(text: string, flag: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text)
  if (!match) throw new TsgiError('ERR_USAGE', `${flag} must be bytes like 10m, got ${JSON.stringify(text)}`)
  return Number(match[1]) * SIZE_UNITS[match[2]!.toLowerCase() as keyof typeof SIZE_UNITS]
}

const TIME_UNITS = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000 } as const

export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|)$/.exec(text.trim())
  if (!match)
    throw new TsgiError('ERR_USAGE', `${flag} must be a duration like 30s or 500ms, got ${JSON.stringify(text)}`)
  return Math.round(Number(match[1]) * TIME_UNITS[match[2] as keyof typeof TIME_UNITS])
}

export function parseCount(text: string, flag: string): number {
  if (!/^\d+$/.test(text))
    throw new TsgiError('ERR_USAGE', `${flag} must be a whole number, got ${JSON.stringify(text)}`)
  return Number(text)
}
