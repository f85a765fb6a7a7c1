// Where a request's tsgi.errors goes (checklist F-34): STDERR records, which the web server writes to its
// error log, unless the web server in front (SERVER_SOFTWARE) loses them or breaks on them; then the
// responder's own log, so that nothing the app wrote is lost.

/** `records`: STDERR records; `log`: the responder's log; `log-after-head`: records until the response begins. */
export type ErrorsRoute = 'records' | 'log' | 'log-after-head'

export function errorsRoute(serverSoftware: unknown): ErrorsRoute {
  if (typeof serverSoftware !== 'string') return 'records'
  // Caddy 2.6 reads STDERR records and drops them (later versions log them only with capture_stderr).
  if (serverSoftware.startsWith('Caddy/')) return 'log'
  // HAProxy 2.6 before 2.6.14 aborts (a BUG_ON in its FastCGI mux) on a STDERR record that follows
  // STDOUT data, taking every site it serves down with it; a record before the response is safe.
  if (serverSoftware.startsWith('HAProxy')) return 'log-after-head'
  return 'records'
}
