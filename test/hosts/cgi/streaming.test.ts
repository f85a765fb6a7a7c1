// Bodies stream both ways with backpressure: 10 MiB up (stdin) and 10 MiB down (stdout), a slow reader
// pauses the script, a slow script's first bytes arrive before it ends, and a script that never reads its
// body still gets its response out (EPIPE absorbed, C-22).
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { runCgiScript } from '../../../src/hosts/cgi/index.js'
import { asCgi, fixture, GET, sleep, textOf, upload } from './_helpers.js'

const MiB = 1024 * 1024
const POST = (length: number): Array<readonly [string, string]> => [
  ...GET.filter(([name]) => name !== 'REQUEST_METHOD'),
  ['REQUEST_METHOD', 'POST'],
  ['CONTENT_LENGTH', String(length)],
]

describe('request body to stdin (RFC 3875 §4.2)', () => {
  it('streams 10 MiB into the script intact', async () => {
    const { body, bytes } = upload(10 * MiB)
    const response = asCgi(await runCgiScript({ script: fixture('hash.sh'), vars: POST(10 * MiB), body }))
    expect((await textOf(response.body)).trim()).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect((await response.exit).code).toBe(0)
  })

  it('reads the body no faster than the script does (write backpressure)', async () => {
    const { body, bytes, pulled } = upload(10 * MiB)
    const response = asCgi(
      await runCgiScript({ script: fixture('hash.sh'), vars: POST(10 * MiB), body, env: { DELAY: '1' } }),
    )
    await sleep(300) // the script sleeps a second before it reads: only the pipe and stream buffers fill
    expect(pulled()).toBeLessThan(MiB)
    expect((await textOf(response.body)).trim()).toBe(createHash('sha256').update(bytes).digest('hex'))
    expect(pulled()).toBe(10 * MiB)
  })

  it('delivers the response of a script that does not read its 10 MiB body (EPIPE, C-22)', async () => {
    const { body, pulled } = upload(10 * MiB)
    const response = asCgi(await runCgiScript({ script: fixture('no-read.sh'), vars: POST(10 * MiB), body }))
    expect(await textOf(response.body)).toBe('ok')
    expect(await response.exit).toMatchObject({ code: 0, timedOut: false })
    await sleep(100)
    expect(pulled()).toBeLessThan(10 * MiB) // the copy stopped at the broken pipe
  })

  it('closes stdin at once without a body', async () => {
    const response = asCgi(await runCgiScript({ script: fixture('hash.sh'), vars: GET }))
    expect((await textOf(response.body)).trim()).toBe(createHash('sha256').digest('hex'))
  })
})

describe('response body from stdout', () => {
  it('streams 10 MiB out of the script intact', async () => {
    const response = asCgi(await runCgiScript({ script: fixture('zeros.sh'), vars: GET }))
    let length = 0
    let nonZero = 0
    for await (const chunk of response.body) {
      length += chunk.length
      for (const byte of chunk) nonZero |= byte
    }
    expect([length, nonZero]).toEqual([10 * MiB, 0])
    expect((await response.exit).code).toBe(0)
  })

  it('pauses the script while the consumer does not read (read backpressure)', async () => {
    const response = asCgi(await runCgiScript({ script: fixture('zeros.sh'), vars: GET }))
    let exited = false
    void response.exit.then(() => {
      exited = true
    })
    const body = response.body[Symbol.asyncIterator]()
    await body.next()
    await sleep(500) // plenty of time to write 10 MiB into an unbounded buffer
    expect(exited).toBe(false)
    let length = 0
    for (let next = await body.next(); !next.done; next = await body.next()) length += next.value.length
    expect(length).toBeGreaterThan(9 * MiB)
    expect((await response.exit).code).toBe(0)
  })

  it('hands over the first bytes before the script ends (writes, sleeps a second, writes)', async () => {
    const response = asCgi(await runCgiScript({ script: fixture('slow.sh'), vars: GET }))
    let exited = false
    void response.exit.then(() => {
      exited = true
    })
    const body = response.body[Symbol.asyncIterator]()
    const first = await body.next()
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('first\n')
    const firstAt = Date.now()
    expect(exited).toBe(false)
    const second = await body.next()
    expect(Date.now() - firstAt).toBeGreaterThan(500) // the script's sleep lies between the two
    expect(Buffer.from(second.value as Uint8Array).toString()).toBe('second\n')
    expect((await body.next()).done).toBe(true)
    expect((await response.exit).code).toBe(0)
  })
})
