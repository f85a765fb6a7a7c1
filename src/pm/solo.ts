// A responder without a manager answers the status page too: a pool of one, its own figures.
import type { FastcgiServer } from '../gateways/fastcgi/responder.js'
import { type Meter, workerStats } from './meter.js'
import { emptyRestarts, type PoolStatus } from './status.js'

export function soloStatus(server: FastcgiServer, meter: Meter, startedAt: number): PoolStatus {
  return {
    pid: process.pid,
    listen: server.address,
    startedAt,
    targetWorkers: 1,
    generation: 1,
    managerRss: 0,
    retiredRequests: 0,
    maxActive: meter.maxActive,
    restarts: emptyRestarts(),
    workers: [{ ...workerStats(server, meter), id: 1, state: 'ready', generation: 1, startedAt }],
  }
}
