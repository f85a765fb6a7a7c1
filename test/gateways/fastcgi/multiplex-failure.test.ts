// An app failing after its head on a multiplexed connection: that request alone ends, with appStatus 1
// and END_REQUEST exactly once; the other requests on the connection go on (SPEC §5.4, §7; F-22, F-23).
import { expect, it } from 'vitest'
import { waitForFile } from '../../_conformance.js'
import { ended, endOf, RawPeer, request, responder, useScratch, vars } from './_raw.js'

const marker = useScratch('tsgi-fcgi-mpx-fail-')

it('a failure after the head ends only its own request, with appStatus 1', async () => {
  const server = await responder({ multiplex: true })
  try {
    const peer = await RawPeer.open(server.address)
    const file = marker()
    peer.send(request(1, vars('/sleep', { query: `file=${file}&ms=400` }), { keepConn: true }))
    expect(await waitForFile(`${file}.started`)).toBe(true)
    peer.send(request(2, vars('/error-after'), { keepConn: true }))
    const records = await peer.until((all) => ended(1)(all) && ended(2)(all))
    expect(endOf(records, 2)).toEqual({ appStatus: 1, protocolStatus: 0 })
    expect(endOf(records, 1)).toEqual({ appStatus: 0, protocolStatus: 0 })
    expect(
      records
        .filter((r) => r.type === 3)
        .map((r) => r.requestId)
        .sort(),
    ).toEqual([1, 2])
    expect(peer.closed).toBe(false)
    peer.destroy()
  } finally {
    await server.close()
  }
})
