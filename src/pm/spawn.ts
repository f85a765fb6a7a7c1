// Starting one worker: the same `tsgi fastcgi APP` command with the app's options, the shared socket on
// fd 3, an IPC channel, and its settings in TSGI_PM_WORKER. Each start loads the app from disk anew.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { WORKER_ENV, type WorkerSettings } from './messages.js'

/** bin/tsgi.js, the same two levels up from src/pm and dist/pm. */
const BIN = fileURLToPath(new URL('../../bin/tsgi.js', import.meta.url))

/** The worker's descriptor for the shared socket (after stdin, stdout, stderr). */
export const WORKER_SOCKET_FD = 3

export function spawnWorker(appArgs: readonly string[], socketFd: number, settings: WorkerSettings): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, [WORKER_ENV]: JSON.stringify(settings) }
  // systemd's variables were for the manager: a worker listens on the descriptor it is given.
  delete env.LISTEN_FDS
  delete env.LISTEN_PID
  delete env.LISTEN_FDNAMES
  return fork(BIN, ['fastcgi', ...appArgs], {
    stdio: ['ignore', 'inherit', 'inherit', socketFd, 'ipc'],
    env,
    serialization: 'json',
  })
}
