// The CGI host's API (RFC 3875, we are the web server): what a caller asks for and what it gets back.
// The HTTP front codes against exactly these names.

/** One request for one CGI script. */
export interface CgiRequest {
  /** Absolute path of the executable script. It is executed directly (execve), never through a shell. */
  script: string
  /**
   * The RFC 3875 meta-variables of this request, in order (built by the caller from the HTTP request).
   * Pairs; repeated names are merged by mergeVars (src/protocol/cgi/environ.ts): HTTP_COOKIE with '; ',
   * other HTTP_* with ', ', any other repeated name keeps its last value (RFC 3875 §4.1.18, S-18).
   */
  vars: ReadonlyArray<readonly [string, string]>
  /** Request body streamed to stdin; stdin is closed at its end (or immediately when undefined). */
  body?: AsyncIterable<Uint8Array>
  /** Working directory: default the script's directory (Apache does this). */
  cwd?: string
  /**
   * Names copied from the host's own environment (allow-list). Default: PATH, LANG, LC_ALL, TZ,
   * LD_LIBRARY_PATH (like Go's cgi); PATH is '/usr/local/bin:/usr/bin:/bin' when no source gives one.
   * Never the whole host environment.
   */
  inheritEnv?: readonly string[]
  /** Extra fixed variables (like Apache SetEnv), e.g. NODE_OPTIONS. They win over `vars` and `inheritEnv`. */
  env?: Readonly<Record<string, string>>
  /** Kill the script's process group (SIGTERM, SIGKILL 2 s later) after this long without progress (no body byte
   * taken in, no output taken out; mod_cgid's CGIDScriptTimeout). Default 60_000 ms (C-21). */
  timeoutMs?: number
  /** Aborted when the client leaves: the script's process group is killed. */
  signal?: AbortSignal
  /** NPH mode (RFC 3875 §5, C-19): default when the script's file name starts with `nph-`. */
  nph?: boolean
  /** Largest response header block, default 64 KiB; more is a 502. */
  maxHeaderBytes?: number
  /** Each line of the script's stderr; default writes `cgi: <script>: <line>` to process.stderr. */
  log?: (line: string) => void
}

/** How the script's process ended (its `exit` event). */
export interface CgiExit {
  code: number | null
  signal: string | null
  /** The timeout killed it. */
  timedOut: boolean
  /** The request's signal killed it (the client left). */
  aborted: boolean
}

/**
 * The script's answer. `cgi`: the parsed head (a local redirect is status 200 with an abs-path Location,
 * for the caller to re-dispatch, RFC 3875 §6.2.2) and the body after it. `nph`: the whole HTTP response
 * as the script wrote it (RFC 3875 §5). Either body is iterated once; it ends at the script's EOF on
 * stdout and throws ERR_TIMEOUT or ERR_ABORTED when the run was cut. Leaving it early kills the script.
 */
export type CgiResponse =
  | {
      kind: 'cgi'
      status: number
      reason: string
      headers: Array<[string, string]>
      body: AsyncIterable<Uint8Array>
      exit: Promise<CgiExit>
    }
  | { kind: 'nph'; raw: AsyncIterable<Uint8Array>; exit: Promise<CgiExit> }
