// `tsgi cgi APP`: answers one request as a CGI script (RFC 3875), from the environment and stdin.
// The CGI adapter is imported first: loading it scrubs HTTP_PROXY before the app loads (httpoxy, S-01).
import { runCgi } from '../../gateways/cgi/run.js'
import { type Command, EXPORT_OPTION, loadOptions, shellLine, tsgiCommand } from '../command.js'
import { loadApp } from '../load.js'

export const cgiCommand: Command = {
  options: { ...EXPORT_OPTION, nph: { type: 'boolean' } },
  // A web server may pass ISINDEX words as argv (RFC 3875 §4.4, C-11): a CGI script ignores them.
  extraArgs: true,
  async run(appPath, values, io) {
    const app = await loadApp(appPath, loadOptions(values, io))
    const command = `${tsgiCommand(undefined, io.cwd)} ${shellLine(io.argv)}`
    return runCgi(app, { scriptPath: appPath, command, ...(values.nph === true ? { nph: true } : {}) })
  },
}
