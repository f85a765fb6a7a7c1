// `tsgi build APP --out FILE`: the app as one executable CGI script (a bundle with a node, bun or deno shebang).
import { relative } from 'node:path'
import { buildCgiScript } from '../../build/cgi-script.js'
import { type Command, EXPORT_OPTION, shapeOption, shellLine, str, usage, withExport } from '../command.js'

export const buildCommand: Command = {
  options: {
    ...EXPORT_OPTION,
    out: { type: 'string', short: 'o' },
    node: { type: 'string' },
    runtime: { type: 'string' },
    sourcemap: { type: 'boolean' },
  },
  async run(appPath, values, io) {
    const out = str(values.out)
    if (out === undefined) throw usage('build needs --out FILE, the CGI script to write (e.g. --out cgi-bin/app)')
    const runtime = str(values.runtime) ?? 'node'
    if (runtime !== 'node' && runtime !== 'bun' && runtime !== 'deno')
      throw usage(`--runtime is node, bun or deno, got ${JSON.stringify(runtime)}`)
    const result = await buildCgiScript({
      app: appPath,
      out,
      exportName: str(values.export),
      shape: shapeOption(values),
      mount: { stripScriptName: values['strip-script-name'] === true },
      cwd: io.cwd,
      withExport: (name: string) => withExport(io, name),
      node: str(values.node),
      runtime,
      sourcemap: values.sourcemap === true,
    })
    const near = relative(io.cwd, result.out)
    const path = near === '' || near.startsWith('..') ? result.out : near
    const kind = result.format === 'cjs' ? 'CommonJS' : 'ES module'
    io.stdout(`tsgi: built ${path} (${(result.bytes / 1024).toFixed(0)} KiB, one ${kind} file, mode 0755)\n`)
    for (const note of result.notes) io.stderr(`tsgi build: note: ${note}\n`)
    const script = path.startsWith('/') || path.startsWith('.') ? path : `./${path}`
    io.stdout(`To try it: REQUEST_METHOD=GET SERVER_PROTOCOL=HTTP/1.1 ${shellLine([script])}\n`)
    return 0
  },
}
