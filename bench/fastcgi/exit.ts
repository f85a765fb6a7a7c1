// The old benches' way out: every child they started is killed when the bench ends or is interrupted.
import { killAll } from '../../src/bench/procs.js'

process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAll()
    process.exitCode = 130
    process.kill(process.pid, signal)
  })
}
