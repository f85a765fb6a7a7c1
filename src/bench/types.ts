// What a `tsgi bench` run measures and returns: its options, one Row per mode, and the run's context.
import type { App } from '../app.js'
import type { Family } from './chart.js'
import type { GenResult } from './loadgen.js'
import type { ModeId } from './modes.js'
import type { AppSpec } from './scripts.js'
import type { Live } from './setup.js'
import type { SystemInfo } from './stats.js'

export interface BenchOptions {
  app: AppSpec
  /** How the app is named in the output (the path as given). */
  label: string
  /** The app loaded here, for the in-process row. */
  loaded: App
  /** The app is the hello example: the bare floor prints its very bytes. */
  isHello: boolean
  modes: ModeId[]
  concurrency: number
  durationMs: number
  rounds: number
  /** The request path below the app's mount point, with its query: `/` by default. */
  path: string
  signal?: AbortSignal
  onProgress?: (done: number, total: number, what: string) => void
}

/** Latency and throughput of one concurrency level, over all rounds. */
export interface Level {
  concurrency: number
  requests: number
  /** Requests per second: all requests over all windows' time. */
  rps: number
  p50Us: number
  p99Us: number
  /** The median of each round's window, in round order. */
  roundP50Us: number[]
}

export interface Row {
  id: ModeId
  name: string
  family: Family
  what: string
  /** Why the row did not run; the other fields are then absent. */
  skipped?: string
  single?: Level
  loaded?: Level
  /** Server-side CPU per request (scripts, worker, or this process for in-process), µs. */
  cpuUs?: number
  /** The HTTP front's or web server's own CPU per request, µs. */
  frontCpuUs?: number
  /** Peak RSS: per request for CGI rows (all its Node processes), per worker for resident ones. */
  peakMB?: number
  /** Median latency at c=1 over the fastest row's. */
  vsFastest?: number
  /** Median latency at c=1 over the bare cjs row's (CGI rows). */
  vsBare?: number
  /** Failed requests (errors, stalls) over all windows. */
  errors?: number
  status?: string
  /** Latency quantiles at c=1, µs, ascending: for the chart. */
  sampleUs?: number[]
}

export interface BenchResult {
  app: string
  system: SystemInfo
  concurrency: number
  durationMs: number
  rounds: number
  path: string
  rows: Row[]
  notes: string[]
  seconds: number
}

/** What one mode measured: its windows at each level, CPU split, peak RSS. */
export interface Measured {
  live: Live
  single: GenResult[]
  loaded: GenResult[]
  serverMs: number
  frontMs: number | undefined
  requests: number
  peakMB: number | undefined
  status: string
}
