// The CGI scripts the CGI rows run, written into the bench's temp dir: tsx per request, the app compiled to
// ES modules with its packages left out, `tsgi build`, the compile cache's source script, the bare floor.
import { chmodSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { basename, dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Shape } from '../bridges/shape.js'
import { buildCgiScript, INTERPRETER } from '../build/cgi-script.js'
import { findEsbuild } from '../build/esbuild.js'
import { isTsgiError } from '../errors.js'
import { type RuntimeName, suffix } from './runtimes.js'
import { packageRoot, sourceModule } from './where.js'

export interface AppSpec {
  /** Absolute path of the app module. */
  path: string
  exportName: string
  shape?: Shape
  stripScriptName: boolean
}

/** A script ready in cgi-bin, or the reason it could not be made. */
export type Made = { script: string } | { skip: string }

/** The bytes examples/hello.ts answers with, printed by a script that loads nothing (and runs on all three). */
export const BARE_HELLO = `'use strict'
process.stdout.write('Status: 200 OK\\r\\nContent-Type: text/plain\\r\\nContent-Length: 13\\r\\n\\r\\nHello world!\\n')
`

/** The bare floor on `runtime`, with the shebang `tsgi build --runtime` gives. */
export function writeBare(cgiBin: string, runtime: RuntimeName = 'node'): Made {
  const shebang = runtime === 'node' ? '#!/usr/bin/env node' : INTERPRETER[runtime]
  return { script: executable(join(cgiBin, `bare${suffix(runtime)}`), `${shebang}\n${BARE_HELLO}`) }
}

/** `#!/bin/sh` exec'ing the tsx command on a runner that imports the app and tsgi's CGI runner. */
export function writeTsx(cgiBin: string, lib: string, app: AppSpec): Made {
  const cli = tsxCli(app.path)
  if (cli === undefined) return { skip: 'tsx is not installed (npm install --save-dev tsx)' }
  const runner = join(lib, 'tsx-runner.mts')
  writeFileSync(runner, runnerSource(sourceModule('gateways/cgi/run'), pathToFileURL(app.path).href, app))
  const sh = `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(cli)} ${quote(runner)}\n`
  return { script: executable(join(cgiBin, 'tsx'), sh) }
}

/** The app's own files bundled to one .mjs (packages stay imports), run by a launcher importing `tsgi/cgi`. */
export async function writeEsm(cgiBin: string, lib: string, app: AppSpec): Promise<Made> {
  const cgi = join(packageRoot(), 'dist', 'gateways', 'cgi', 'index.js')
  if (!existsSync(cgi)) return { skip: 'needs a built tsgi (dist/ is missing: npm run build)' }
  const found = findEsbuild(app.path)
  if (found === undefined) return { skip: 'esbuild is not installed (npm install --save-dev esbuild)' }
  try {
    await found.esbuild.build({
      entryPoints: [app.path],
      outfile: join(lib, 'app.mjs'),
      bundle: true,
      packages: 'external',
      format: 'esm',
      platform: 'node',
      target: `node${process.versions.node.split('.')[0]}`,
      logLevel: 'silent',
    })
  } catch (error) {
    return { skip: `esbuild: ${firstLine(error)}` }
  }
  linkPackages(dirname(lib), app.path)
  const launcher = `#!/usr/bin/env node\n${runnerSource('tsgi/cgi', '../lib/app.mjs', app)}`
  return { script: executable(join(cgiBin, 'esm.mjs'), launcher) }
}

/**
 * A TypeScript CGI script run from its source through the compile cache: `#!/usr/bin/env tsgi-cgi` and the
 * app's export; `tsgi-cgi` is linked into `bin`, which leads the front's PATH as the package's .bin would.
 */
export function writeCached(cgiBin: string, bin: string, app: AppSpec): Made {
  const command = join(packageRoot(), 'bin', 'tsgi-cgi.cjs')
  if (!existsSync(command)) return { skip: 'this tsgi has no compile cache (bin/tsgi-cgi.cjs)' }
  if (findEsbuild(app.path) === undefined) return { skip: 'esbuild is not installed (npm install --save-dev esbuild)' }
  symlinkSync(command, join(bin, 'tsgi-cgi'))
  const flags = [
    ...(app.exportName === 'default' ? [] : ['--export', app.exportName]),
    ...(app.shape === undefined ? [] : ['--shape', app.shape]),
    ...(app.stripScriptName ? ['--strip-script-name'] : []),
  ]
  const shebang = flags.length === 0 ? '#!/usr/bin/env tsgi-cgi' : `#!/usr/bin/env -S tsgi-cgi ${flags.join(' ')}`
  const name = app.exportName === 'default' ? 'default' : app.exportName
  const text = `${shebang}\nexport { ${name} } from ${JSON.stringify(app.path)}\n`
  return { script: executable(join(cgiBin, 'cached.ts'), text) }
}

/** `tsgi build APP --out cgi-bin/build --runtime RUNTIME`. */
export async function writeBuild(cgiBin: string, app: AppSpec, runtime: RuntimeName = 'node'): Promise<Made> {
  const out = join(cgiBin, `build${suffix(runtime)}`)
  try {
    await buildCgiScript({
      app: app.path,
      out,
      runtime,
      exportName: app.exportName,
      ...(app.shape === undefined ? {} : { shape: app.shape }),
      mount: { stripScriptName: app.stripScriptName },
    })
  } catch (error) {
    if (!isTsgiError(error)) throw error
    return { skip: firstLine(error).replace(/^tsgi build: /, '') }
  }
  return { script: out }
}

function runnerSource(cgiModule: string, appModule: string, app: AppSpec): string {
  const run = {
    ...(app.shape === undefined ? {} : { shape: app.shape }),
    mount: { stripScriptName: app.stripScriptName },
  }
  return [
    `import { runCgiExport } from ${JSON.stringify(cgiModule)}`,
    `import * as app from ${JSON.stringify(appModule)}`,
    `await runCgiExport(app, ${JSON.stringify(app.exportName)}, ${JSON.stringify(basename(app.path))}, ${JSON.stringify(run)})`,
    '',
  ].join('\n')
}

/** The tsx command's entry (its bin), from tsgi's dependencies or the app's project. */
function tsxCli(app: string): string | undefined {
  for (const base of [import.meta.url, app]) {
    try {
      const manifest = createRequire(base).resolve('tsx/package.json')
      const bin = (createRequire(base)('tsx/package.json') as { bin?: string | Record<string, string> }).bin
      const entry = typeof bin === 'string' ? bin : bin?.tsx
      if (entry !== undefined) return join(dirname(manifest), entry)
    } catch {
      // not there
    }
  }
  return undefined
}

/**
 * node_modules beside the launcher: `tsgi` is this package, every other name links to the app's own
 * node_modules, so the bundle's package imports resolve as they would in the app's project.
 */
function linkPackages(dir: string, app: string): void {
  const modules = join(dir, 'node_modules')
  mkdirSync(modules, { recursive: true })
  symlinkSync(packageRoot(), join(modules, 'tsgi'))
  const own = nearestNodeModules(dirname(app))
  if (own === undefined) return
  for (const name of readdirSync(own)) {
    if (name.startsWith('.') || name === 'tsgi') continue
    symlinkSync(join(own, name), join(modules, name))
  }
}

function nearestNodeModules(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) return join(dir, 'node_modules')
    if (dirname(dir) === dir) return undefined
  }
}

function executable(path: string, text: string): string {
  writeFileSync(path, text, { mode: 0o755 })
  chmodSync(path, 0o755)
  return path
}

function quote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? ''
}
