// What may be executed, and the 502 a script that cannot be started turns into, naming the path and
// the reason (ENOENT, EACCES, no #! line) so that the operator's log says what to fix.
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { isAbsolute } from 'node:path'
import { TsgiError } from '../../errors.js'

/**
 * Checks `script` before it is spawned: an absolute path to a `#!` script or an ELF binary. Without the
 * check, a text file with no `#!` line would still run: libc's execvp (libuv uses it) hands ENOEXEC
 * files to /bin/sh, and the script must run through execve alone (Apache and Go answer ENOEXEC with an
 * error too). An unreadable file is left to execve, which can still run an unreadable binary.
 */
export function checkScript(script: string): void {
  if (typeof script !== 'string' || !isAbsolute(script) || script.includes('\0')) {
    throw new TsgiError(
      'ERR_INVALID_ARGUMENT',
      `cgi: the script must be an absolute path, got ${JSON.stringify(script)}`,
    )
  }
  const magic = new Uint8Array(4)
  let fd: number
  try {
    fd = openSync(script, 'r')
  } catch (err) {
    const code = errnoOf(err)
    if (code === 'EACCES') return
    if (code === 'ENOENT' || code === 'ENOTDIR') throw cannotStart(script, 'no such file (ENOENT)', err)
    throw cannotStart(script, `cannot open it (${code})`, err)
  }
  let read: number
  try {
    read = readSync(fd, magic, 0, magic.length, 0)
  } catch (err) {
    const code = errnoOf(err)
    throw cannotStart(script, code === 'EISDIR' ? 'it is a directory' : `cannot read it (${code})`, err)
  } finally {
    closeSync(fd)
  }
  const shebang = read >= 2 && magic[0] === 0x23 && magic[1] === 0x21 // '#!'
  const elf = read === 4 && magic[0] === 0x7f && magic[1] === 0x45 && magic[2] === 0x4c && magic[3] === 0x46
  if (!shebang && !elf) throw cannotStart(script, 'it has no #! line and is no ELF binary (ENOEXEC)')
}

/** The 502 for spawn()'s `error` event (the script never ran): says which errno and what it means here. */
export function spawnError(script: string, cwd: string, err: unknown): TsgiError {
  const code = errnoOf(err)
  if (code === 'EACCES') return cannotStart(script, 'permission denied (EACCES): is it executable?', err)
  if (code === 'ENOENT') {
    // checkScript saw the file: the working directory or the #! interpreter is what is missing.
    const why = existsSync(cwd)
      ? 'the interpreter on its #! line was not found (ENOENT)'
      : `its working directory ${cwd} does not exist (ENOENT)`
    return cannotStart(script, why, err)
  }
  return cannotStart(script, err instanceof Error ? err.message : String(err), err)
}

function cannotStart(script: string, why: string, cause?: unknown): TsgiError {
  return new TsgiError('ERR_LOAD_APP', `cgi: cannot start ${script}: ${why}`, { status: 502, cause })
}

function errnoOf(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return typeof code === 'string' ? code : 'unknown error'
}
