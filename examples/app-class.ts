// The seed's AppClass: a class whose instances are the body. The gateway calls `new AppClass(...)`
// and iterates the instance; startResponse runs when iteration starts (SPEC §2).
import type { Environ, StartResponse } from '../src/app.js'

export default class AppClass {
  constructor(
    readonly environ: Environ,
    readonly start: StartResponse,
  ) {}

  *[Symbol.iterator](): Iterator<string> {
    this.start('200 OK', [['Content-Type', 'text/plain']])
    yield 'Hello world!\n'
  }
}
