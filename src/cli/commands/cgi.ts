// `tsgi cgi APP`: answers one request as a CGI script (RFC 3875), from the environment and stdin. A TypeScript
// app runs through the compile cache of `tsgi-cgi` when esbuild is installed, else through tsx. Either way the
// CGI adapter loads before the app: it scrubs HTTP_PROXY before the app's modules run (httpoxy, S-01).
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { extname, resolve } from 'node:path'
import type { SourceOptions } from '../../build/source-script.js'
import type { CgiOptions } from '../../gateways/cgi/run.js'
import { type Command, EXPORT_OPTION, type Io, loadOptions, shellLine, tsgiCommand, type Values } from '../command.js'

/** bin/tsgi-cgi.cjs, the compile cache's reader; it resolves to undefined when esbuild is missing. */
interface SourceRunner {
  runSource(
    script: string,
    options: SourceOptions,
    runtime: CgiOptions & { withExport?: (name: string) => string; fallback: true },
  ): Promise<number | undefined>
}

const COMPILED = new Set(['.ts', '.mts', '.cts'])

export const cgiCommand: Command = {
  options: { ...EXPORT_OPTION, nph: { type: 'boolean' } },
  // A web server may pass ISINDEX words as argv (RFC 3875 §4.4, C-11): a CGI script ignores them.
  extraArgs: true,
  async run(appPath, values, io) {
    const command = `${tsgiCommand(undefined, io.cwd)} ${shellLine(io.argv)}`
    const cgi = { scriptPath: appPath, command, ...(values.nph === true ? { nph: true } : {}) }
    const file = resolve(io.cwd, appPath)
    if (COMPILED.has(extname(file)) && existsSync(file)) {
      const code = await runCompiled(file, values, io, cgi)
      if (code !== undefined) return code
    }
    const { runCgi } = await import('../../gateways/cgi/run.js')
    const { loadApp } = await import('../load.js')
    return runCgi(await loadApp(appPath, loadOptions(values, io)), cgi)
  },
}

/** The app from the compile cache (compiled on a miss); undefined when esbuild is not installed. */
function runCompiled(file: string, values: Values, io: Io, cgi: CgiOptions): Promise<number | undefined> {
  const { exportName, shape, mount, withExport } = loadOptions(values, io)
  const { runSource } = createRequire(import.meta.url)('../../../bin/tsgi-cgi.cjs') as SourceRunner
  const options = { exportName, shape, stripScriptName: mount.stripScriptName }
  return runSource(file, options, { ...cgi, withExport, fallback: true })
}
