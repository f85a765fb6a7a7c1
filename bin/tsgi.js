#!/usr/bin/env -S node --max-semi-space-size=2
// The `tsgi` command: runs the built CLI (dist/cli/main.js), or in a checkout without a build, the
// TypeScript sources through tsx. The only place besides src/cli/main.ts that exits the process.
// TSGI_FROM_SOURCE=1 runs the sources even when dist/ exists (a stale build must not be what a test runs).
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

// A resident responder needs the shebang's V8 flag: a lower RSS under load (docs/performance.md, "V8
// flags"). `node bin/tsgi.js fastcgi ...` skips the shebang, so the responder starts again with them.
const FLAGS = ['--max-semi-space-size=2']
// Node only: Bun runs JavaScriptCore, and Deno takes V8 flags as --v8-flags=... on its own command line.
const onNode = process.versions.bun === undefined && process.versions.deno === undefined
if (process.argv[2] === 'fastcgi' && process.env.TSGI_V8_FLAGS !== 'off' && onNode) {
  const missing = FLAGS.filter((flag) => !hasFlag(flag.split('=')[0]))
  if (missing.length > 0) await restartWith(missing)
}

const built = new URL('../dist/cli/main.js', import.meta.url)
let cli
if (existsSync(built) && process.env.TSGI_FROM_SOURCE !== '1') {
  cli = await import(built.href)
} else {
  let tsx
  try {
    tsx = await import('tsx/esm/api')
  } catch {
    process.stderr.write('tsgi: dist/ is missing: run `npm run build` first (or install tsx to run from source)\n')
    process.exit(1)
  }
  cli = await tsx.tsImport(new URL('../src/cli/main.ts', import.meta.url).href, import.meta.url)
}
const code = await cli.main(process.argv.slice(2))
// Let buffered output reach a pipe before exiting.
process.stdout.write('', () => process.exit(code))

/** A flag (or its --no- form) given on node's command line or in NODE_OPTIONS. */
function hasFlag(name) {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  const negated = name.replace(/^--/, '--no-')
  return given.some((arg) => arg === name || arg.startsWith(`${name}=`) || arg === negated)
}

/**
 * Runs this command again with the flags. Where Node can replace the process (process.execve, Node 22.15
 * and 23.11 on), it keeps its pid, which web servers and supervisors track. On older Node, or to hand on a
 * descriptor above 2 (node marks inherited ones close-on-exec as it starts, so execve would close a
 * systemd socket or --listen fd:N), a child runs the responder with the descriptors it may listen on and
 * gets every signal; this process waits for it.
 */
async function restartWith(flags) {
  const argv = [...flags, ...process.execArgv, ...process.argv.slice(1)]
  const env = { ...process.env, TSGI_V8_FLAGS: 'off' }
  const stdio = passedDescriptors()
  if (typeof process.execve === 'function' && stdio.length === 3)
    process.execve(process.execPath, [process.execPath, ...argv], env)
  // systemd passed its sockets to this pid (LISTEN_PID): the child, which takes them, has a pid of its
  // own, known only once it runs; a shell sets LISTEN_PID to its own pid, then becomes node (exec).
  const child =
    env.LISTEN_PID === String(process.pid)
      ? spawn('/bin/sh', ['-c', 'export LISTEN_PID=$$; exec "$0" "$@"', process.execPath, ...argv], { stdio, env })
      : spawn(process.execPath, argv, { stdio, env })
  dropRootLikeChild()
  const forward = (signal) => child.kill(signal)
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGTTIN', 'SIGTTOU']
  for (const signal of signals) process.on(signal, forward)
  const [code, signal] = await new Promise((resolve) => child.once('exit', (...end) => resolve(end)))
  for (const sig of signals) process.off(sig, forward)
  if (signal !== null) process.kill(process.pid, signal)
  process.exit(code ?? 1)
}

/**
 * The stdio list for the child: the standard three (fd 0 may be a web server's listening socket), the
 * descriptor of `--listen fd:N`, and those systemd passed this process (LISTEN_FDS from fd 3, if LISTEN_PID is ours).
 */
function passedDescriptors() {
  const fds = []
  const listen = process.argv.indexOf('--listen')
  const match = listen === -1 ? null : /^fd:(\d+)$/.exec(process.argv[listen + 1] ?? '')
  if (match !== null) fds.push(Number(match[1]))
  const activated = process.env.LISTEN_PID === String(process.pid) ? Number(process.env.LISTEN_FDS ?? 0) : 0
  for (let i = 0; i < activated; i++) fds.push(3 + i)
  const stdio = ['inherit', 'inherit', 'inherit']
  for (let fd = 3; fd <= Math.max(2, ...fds); fd++) stdio.push(fds.includes(fd) ? fd : 'ignore')
  return stdio
}

/** This process only forwards signals: with --user, it need not stay root either (the child drops too). */
function dropRootLikeChild() {
  const at = process.argv.indexOf('--user')
  if (at === -1 || process.getuid?.() !== 0) return
  const [user, group] = (process.argv[at + 1] ?? '').split(':')
  try {
    const gid =
      group || Number(readFileSync('/etc/passwd', 'utf8').match(new RegExp(`^${user}:[^:]*:\\d+:(\\d+):`, 'm'))?.[1])
    process.initgroups(user, gid)
    process.setgid(gid)
    process.setuid(user)
  } catch {
    // The child reports a bad --user itself; this process then exits with it.
  }
}
