// The text of `tsgi --help`.

export const USAGE = `Usage: tsgi <command> APP [options]

Serve a TSGI application (WSGI for TypeScript) through CGI, FastCGI or a development HTTP server.

Commands:
  serve APP      run APP on a development HTTP server (like wsgiref.simple_server)
  cgi APP        answer one request as a CGI script (RFC 3875), from the environment and stdin
  fastcgi APP    run APP as a resident FastCGI responder until SIGTERM; without --listen it uses
                 the socket systemd passed (socket activation), else the listening socket on fd 0
                 (mod_fcgid, spawn-fcgi, lighttpd), or answers one CGI request when started as a CGI script
  build APP      write APP as one executable CGI script (--out FILE): a bundle Node starts fastest
  bench [APP]    serve APP every way tsgi can (CGI as tsx, ES modules, tsgi build, the compile cache,
                 a bare floor; FastCGI; the dev server; in-process; Apache and nginx when installed)
                 and print one table of latency, throughput, CPU and memory (default: examples/hello.ts);
                 --runtime node,bun,deno adds the rows of Bun and Deno
  front          an HTTP front for trying and measuring (not for production: use nginx or Apache):
                 /cgi-bin/* runs the scripts of --cgi-bin DIR, a new process per request, and each
                 --fastcgi PREFIX=ADDR forwards to a FastCGI responder over kept connections
  demo           in a checkout (npm start): the hello app as CGI and as FastCGI behind the front on
                 127.0.0.1:8080, and a page that compares them

APP is a module path. Its default export is the app, or the export named by --export.
.ts, .mts and .cts files are loaded through tsx (npm install --save-dev tsx); \`tsgi cgi\` compiles them
once into a cache with esbuild instead, when it is installed. A CGI script in TypeScript can start with
#!/usr/bin/env tsgi-cgi: the same cache, from the second request on as fast as a built script.

Options:
  --export NAME  take the app from the export NAME instead of the default export
  --host HOST    serve, front, demo: the address to listen on (default 127.0.0.1)
  --port PORT    serve, front, demo: the port (serve 8000, front and demo 8080; 0 picks a free port)
  --cgi-bin DIR  front: the directory of CGI scripts served at /cgi-bin/
  --fastcgi PREFIX=ADDR  front: forward PREFIX (e.g. /fcgi) to the responder at ADDR; repeatable
  --cgi-timeout SECONDS  front: kill a CGI script that makes no progress for longer (default 60)
  --env NAME=VALUE  front: a variable every CGI script gets (Apache's SetEnv); repeatable
  --quiet        front: no access log
  --nph          cgi: write a complete HTTP response (non-parsed headers, RFC 3875 §5);
                 default: on when the script name starts with nph-
  --listen ADDR  fastcgi: HOST:PORT, a Unix socket path, fd:0, or systemd (the socket of a .socket unit)
  --socket-mode MODE  fastcgi: permissions of a Unix socket (default 0600)
  --socket-owner USER[:GROUP]  fastcgi: owner of a Unix socket, e.g. tsgi:www-data with --socket-mode 0660
                 so that the web server's user can connect and nobody else (needs root)
  --user USER[:GROUP]  fastcgi: once listening, drop root and serve as this user
  --allow-root   fastcgi: keep serving as root (refused otherwise)
  --pid-file FILE  fastcgi: write the responder's pid there
  --public       fastcgi: allow a non-loopback TCP address
  --multiplex    fastcgi: serve several requests at once on one connection
  --max-body SIZE  fastcgi: largest request body (e.g. 10m); bigger ones get 413
  --workers N    fastcgi: N worker processes on the one socket, under a manager (auto: one per core);
                 SIGHUP reloads them with the code on disk, SIGTTIN/SIGTTOU add/remove one
  --max-requests N  fastcgi: replace a worker after N requests (plus up to --max-requests-jitter N,
                 default N/10, so that workers do not all restart at once)
  --max-rss SIZE  fastcgi: replace a worker whose memory passes SIZE (e.g. 300m)
  --request-timeout TIME  fastcgi: cut a request running longer (e.g. 30s) and replace its worker
  --slow-log TIME  fastcgi: log requests slower than TIME (e.g. 2s)
  --status-path PATH  fastcgi: answer PATH with the pool's figures (JSON; ?openmetrics for Prometheus)
  --ping-path PATH  fastcgi: answer PATH with pong
  --emergency-restart-threshold N  fastcgi: stop (exit 1) when N workers die within
                 --emergency-restart-interval TIME (default 10 within 60s)
  -o, --out FILE  build: the CGI script to write (needs esbuild: npm install --save-dev esbuild)
  --node PATH    build: the node the script runs with (default: the first node on the web server's PATH)
  --runtime NAME  build: node (default), bun or deno: the runtime the script's shebang names (found on the
                 web server's PATH)
  --sourcemap    build: stack traces of the app's errors point at its sources
  --modes LIST   bench: the rows to run, e.g. cgi-build,fastcgi,in-process (default: all of cgi-tsx,
                 cgi-esm, cgi-build, cgi-cached, bare-cjs, fastcgi, dev-server, in-process,
                 apache-cgid, nginx-fastcgi; with several runtimes also http)
  --runtime LIST  bench: the runtimes to serve the app on, e.g. node,bun,deno (default node): rows of
                 cgi-build, bare-cjs, fastcgi, dev-server and http (the runtime's own HTTP server answering
                 the hello) on each; bun and deno come from TSGI_BUN / TSGI_DENO, else PATH, else a
                 checkout's .cache/runtimes (bash scripts/fetch-runtimes.sh)
  -c, --concurrency N  bench: connections for the throughput column (default 2 x cores)
  --duration SECONDS  bench: each timed window (default 0.5); --rounds N: rounds over all rows (default 3)
  --path PATH    bench: the request path below the app's mount point (default /)
  --json         bench: print the result as JSON instead of the table
  --html FILE    bench: also write a page with a latency chart and the table (no external assets)
  --shape KIND   the kind of app: tsgi, fetch (Hono, { fetch }) or node (Express, (req, res));
                 default: told by what the export looks like (a plain function is a TSGI app)
  --strip-script-name  fetch and node apps see the path below SCRIPT_NAME (apps written for /)
  -h, --help     show this help
  -v, --version  print the version

Examples:
  tsgi serve app.ts --port 8080
  tsgi build app.ts --out cgi-bin/app
  tsgi cgi dist/app.js --export handler
  tsgi fastcgi app.ts --listen 127.0.0.1:9000
  tsgi front --cgi-bin cgi-bin --fastcgi /fcgi=127.0.0.1:9000
  tsgi bench app.ts --modes cgi-build,fastcgi,dev-server --html bench.html
  tsgi bench --runtime node,bun,deno --modes cgi-build,bare-cjs,fastcgi,http
  tsgi fastcgi app.js --listen /run/tsgi/app.sock --socket-owner tsgi:www-data --socket-mode 0660 --user tsgi
  tsgi fastcgi app.js --listen systemd --workers auto --max-requests 1000 --status-path /tsgi-status
`
