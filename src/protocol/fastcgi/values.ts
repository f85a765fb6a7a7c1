// FCGI_GET_VALUES (FastCGI spec §4.1): the variables an application reports about itself, and the
// answer to a query. Answered by the library, not the application (F-09); values match the real
// limits the caller configured (F-29).
import { TsgiError } from '../../errors.js'
import { MAX_CONNS, MAX_REQS, MPXS_CONNS } from './constants.js'
import { encodeParams, type Pair } from './params.js'

/** FCGI_MPXS_CONNS always; FCGI_MAX_CONNS and FCGI_MAX_REQS only when the caller knows them. */
export function configuredValues(
  multiplex: boolean,
  maxConns: number | undefined,
  maxReqs: number | undefined,
): ReadonlyMap<string, string> {
  const values = new Map<string, string>()
  if (maxConns !== undefined) values.set(MAX_CONNS, String(positive(maxConns)))
  if (maxReqs !== undefined) values.set(MAX_REQS, String(positive(maxReqs)))
  values.set(MPXS_CONNS, multiplex ? '1' : '0')
  return values
}

/** The GET_VALUES_RESULT body: known names in query order, once each; unknown names left out. */
export function answerGetValues(values: ReadonlyMap<string, string>, query: Pair[]): Uint8Array {
  const reply: Array<[string, string]> = []
  for (const [name] of query) {
    const value = values.get(name)
    if (value !== undefined && !reply.some(([seen]) => seen === name)) reply.push([name, value])
  }
  return encodeParams(reply)
}

function positive(n: number): number {
  if (!Number.isInteger(n) || n < 1) {
    throw new TsgiError('ERR_INVALID_ARGUMENT', `fcgi: invalid GET_VALUES value ${n}`)
  }
  return n
}
