// Words for the compatibility table: the per-path notes derived from what the checks assert, and the
// server differences found while writing the example configs (each one is exercised by a check).
import type { Expectations } from './_checks.js'

export function notesFor(expect: Expectations): string[] {
  const notes = [
    `GET CONTENT_LENGTH ${expect.getContentLength === null ? 'absent' : `"${expect.getContentLength}"`}`,
    `two Cookie lines → "${expect.cookie}"`,
    `X-Under_score ${underscoreNote(expect.underscore)}`,
    `local redirect ${{ internal: 'served internally', client: 'sent to the client as 302', 'passed through': 'reaches the client as 200 + Location, empty' }[expect.localRedirect]}`,
    `client gone: ${{ signal: 'tsgi.signal fires', 'runs to the end': 'app runs to the end', killed: 'SIGTERM kills the script, no tsgi.signal' }[expect.abort]}`,
  ]
  if (expect.reuse !== undefined) notes.push(`connections ${expect.reuse}`)
  if (expect.https !== undefined) {
    const sent = Object.entries(expect.https).filter(([, value]) => value !== null)
    notes.push(`HTTPS: ${sent.map(([name, value]) => `${name}=${value}`).join(', ') || 'nothing'}`)
  }
  const chunked = expect.chunkedContentLength
  if (typeof chunked === 'object' && chunked !== null)
    notes.push(
      `chunked body held whole in one buffer: 3 MiB refused (400 or a reset), ${chunked.bufferOnly / 1024} KiB passes`,
    )
  return notes
}

function underscoreNote(seen: Expectations['underscore']): string {
  if (Array.isArray(seen)) return '→ HTTP_X_UNDER_SCORE, replacing X-Under-Score or replaced by it, at random'
  return seen === 'dash' ? 'dropped' : '→ HTTP_X_UNDER_SCORE, joined with X-Under-Score'
}

export const QUIRKS: string[] = [
  'Apache mod_proxy_fcgi with `ProxyPass` sends SCRIPT_NAME = the whole decoded path and no PATH_INFO; ' +
    '`SetEnvIf Request_URI ... proxy-fcgi-pathinfo=unescape` gives SCRIPT_NAME = the mount and a decoded PATH_INFO. ' +
    '`SetEnv` does not work for this: it runs after mod_proxy has mapped the URL.',
  'Apache: parameters on a second `ProxyPass` to the same `fcgi://host:port/` are ignored (AH01146, worker sharing); ' +
    'the example sets `enablereuse=on` once, in a `<Proxy>` block.',
  'Apache joins repeated request headers with ", ", Cookie included (`a=1, b=2`); nginx 1.22 sends them as repeated ' +
    'params, which tsgi joins (Cookie with "; "); lighttpd joins Cookie with "; " itself.',
  'Apache mod_cgid sends SIGTERM to a CGI script as soon as the client goes away; the CGI adapter turns it ' +
    'into tsgi.signal, so the app stops and its body is closed.',
  "Apache (mod_cgid and mod_proxy_fcgi) drops the app's Content-Length from HEAD responses and from a streamed " +
    '3 MiB body; mod_fcgid, nginx and lighttpd pass it on (tsgi sends the length the GET would have).',
  'A response the app fails after its first chunk: mod_proxy_fcgi, lighttpd and nginx with fastcgi_keep_conn cut ' +
    "the client connection; mod_cgid (it ignores the script's exit status) and nginx without keep-conn (the " +
    'connection closing is the end of the response there) end it cleanly; mod_fcgid has buffered the chunk and answers 500.',
  "The servers log tsgi.errors (STDERR records, a CGI script's stderr) each in its own way: mod_proxy_fcgi one " +
    '`AH01071: Got error` entry per record, escaped; nginx one `FastCGI sent in stderr` per record; mod_fcgid and ' +
    'lighttpd one prefixed entry per line; mod_cgid the raw text.',
  'Apache mod_proxy_fcgi has no RFC 3875 §6.2.2 local redirects: `Location: /path` with 200 reaches the client ' +
    'unchanged (200, empty body); nginx and lighttpd turn it into a 302; mod_cgid and mod_fcgid serve the path.',
  'lighttpd reads the whole response before sending it unless `server.stream-response-body = 2`; with the ' +
    'default, a client that leaves goes unnoticed and the app runs to the end. The example sets 2.',
  'mod_authnz_fcgi keeps only the response body bytes that share a STDOUT record with the end of the headers; ' +
    "a denial whose body comes in a later record reaches the client as Apache's own error page.",
  'CONTENT_LENGTH on a GET: absent (Apache CGI and mod_proxy_fcgi), "" (nginx; tsgi drops it), "0" (mod_fcgid, lighttpd).',
  'A chunked request body: Apache mod_cgid passes it without CONTENT_LENGTH (RFC 3875 §4.1.2 says it must set it) ' +
    'and the CGI gateway reads to EOF; mod_proxy_fcgi too, unless `proxy-sendcl` is set (the example sets it); ' +
    'mod_fcgid, nginx and lighttpd buffer the body and send the length.',
  'A header name with an underscore: Apache and nginx drop it; lighttpd maps `X-Under_score` to HTTP_X_UNDER_SCORE, ' +
    'where it collides with `X-Under-Score` (both values arrive, joined).',
  'lighttpd splits SCRIPT_NAME/PATH_INFO one segment after a `fastcgi.server` prefix that ends in "/"; ' +
    'the example uses prefixes without the trailing slash.',
  'nginx: `fastcgi_split_path_info` needs `(?s)` or a %0A in the path empties PATH_INFO (the CVE-2019-11043 shape). ' +
    'An empty `fastcgi_param HTTP_PROXY ""` removes the httpoxy header entirely.',
  'mod_fcgid gives the spawned responder only FcgidInitialEnv and PATH; lighttpd gives bin-path children its whole environment.',
  'Caddy 2.6 streams a chunked request body with CONTENT_LENGTH "-1" (Go\'s "unknown"); tsgi reads it to the end ' +
    '(C-23). Newer Caddy versions answer 411 to such a request unless `request_buffers` can hold the body.',
  'Caddy 2.6 discards STDERR records and HAProxy 2.6 (before 2.6.14) aborts on a STDERR record that follows the ' +
    "response's first STDOUT bytes, taking every site it serves down: tsgi sends tsgi.errors to the responder's " +
    'own log instead, for Caddy always and for HAProxy once the response has begun (F-34).',
  "Caddy passes the app's `Status:` line on to the client as a header and the `Proxy:` request header on as " +
    'HTTP_PROXY; the example removes both (`header_down -Status`, `header_up -Proxy`). Caddy 2.6 dials the ' +
    'responder for every request.',
  'Caddy sends both `X-Under_score` and `X-Under-Score` as HTTP_X_UNDER_SCORE and one of them wins at random ' +
    '(Go map order); an app must not trust a header whose name differs from another only by `_`/`-` behind Caddy.',
  'Caddy and h2o end a response the app cut short after its first chunk cleanly: a client cannot tell that a ' +
    'streamed body was incomplete.',
  'HAProxy 2.6 holds a chunked request body whole in one buffer (`option http-buffer-request`) and answers 400 ' +
    'to one larger than tune.bufsize (16 KiB); raising tune.bufsize past 64 KiB makes it write FastCGI records ' +
    'longer than their 16-bit length field allows, and every large request fails.',
  "HAProxy 2.6 sends SERVER_NAME as the Host header's `name:port`; tsgi keeps the name (C-24). It answers a path " +
    'with %0A with its own 500, and reuses kept FastCGI connections between clients only with `http-reuse always`.',
  'h2o 2.2 sends SCRIPT_NAME "" and the whole path as PATH_INFO; the example\'s `setenv: SCRIPT_NAME` names the ' +
    'mount and tsgi takes it off PATH_INFO (C-25). h2o reads a request body whole before it sends it, joins ' +
    'Cookie lines with ";" and passes `Proxy:` as HTTP_PROXY (harmless to tsgi, S-01).',
  'Over HTTPS, Caddy sends HTTPS=on and REQUEST_SCHEME=https, HAProxy and h2o HTTPS=on alone; either makes ' +
    'tsgi.url_scheme https (C-09). The three examples have an HTTPS listener with a certificate of your own.',
]
