// What a `tsgi bench` run measures and returns: its options, one Row per mode and runtime, and the run's
// context.
import type { App } from '../app.js'
import type { Family } from './chart.js'
import type { Live } from './live.js'
import type { GenResult } from './loadgen.js'
import type { ModeId } from './modes.js'
import type { Runtime, RuntimeName } from './runtimes.js'
import type { AppSpec } from './scripts.js'
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
  /** The runtimes to serve it on (Node, the one running the bench, by default): rows of each mode on each. */
  runtimes: Runtime[]
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
  runtime: RuntimeName
  name: string
  family: Family
  what: string
  /** The runtime whose process answered, as seen by the bench: the worker's binary, or the CGI script's own report. */
  servedBy?: string
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
  /** Median latency at c=1 over the bare cjs row's on Node (CGI rows). */
  vsBare?: number
  /** Requests per second at c=N over the same mode's on Node (modes run on several runtimes). */
  vsNodeRps?: number
  /** Requests per second at c=N over the runtime's own HTTP server's (resident rows, when the http row ran). */
  vsHttpRps?: number
  /** Failed requests (errors, stalls) over all windows. */
  errors?: number
  status?: string
  /** Latency quantiles at c=1, µs, ascending: for the chart. */
  sampleUs?: number[]
}

export interface BenchResult {
  app: string
  system: SystemInfo
  /** The runtimes of the run and their versions. */
  runtimes: Array<{ name: RuntimeName; version: string }>
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
  servedBy?: string
}
