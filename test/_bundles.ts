// esbuild bundles of an app module for the spawned gateways (CGI script, fd-0 responder, ESM module),
// built once per app and test file, like scripts/build.mjs does; removeBundles() deletes them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { build } from 'esbuild'
import type { Shape } from '../src/bridges/shape.js'
import type { MountOptions } from '../src/bridges/url.js'
import type { AppSpec } from './_transports.js'
import conformanceApp from './fixtures/conformance-app.js'

export const ROOT = resolve(import.meta.dirname, '..')
export const APP_PATH = join(ROOT, 'test/fixtures/conformance-app.ts')

interface Bundles {
  cgi: string
  auto: string
  module: string
  dir: string
}

/** One set of bundles per app module and test file (each test file runs in its own worker). */
const built = new Map<string, Promise<Bundles>>()
const bundleDirs = new Set<string>()

/** Builds (once per test file) the CGI script, the fd-0 entry and an ESM module of the conformance app. */
export function bundles(): Promise<Bundles> {
  return bundlesOf({ appPath: APP_PATH, app: conformanceApp })
}

export function bundlesOf(spec: AppSpec): Promise<Bundles> {
  const appPath = spec.appPath
  if (appPath === undefined) return Promise.reject(new Error(`transports: ${spec.label ?? 'this app'} has no appPath`))
  const key = `${appPath}\n${JSON.stringify(spec.mount ?? null)}\n${spec.shape}`
  let done = built.get(key)
  if (done === undefined) {
    done = buildBundles(appPath, spec.mount, spec.shape)
    built.set(key, done)
  }
  return done
}

async function buildBundles(
  appPath: string,
  mount: MountOptions | undefined,
  shape: Shape | undefined,
): Promise<Bundles> {
  const dir = mkdtempSync(join(tmpdir(), 'tsgi-conformance-'))
  bundleDirs.add(dir)
  // Express has requires esbuild cannot follow (view engines), which it warns about.
  const logLevel = mount === undefined ? 'warning' : 'error'
  const common = { bundle: true, platform: 'node', target: 'node20', logLevel, keepNames: true } as const
  const entry = (code: string) => ({
    contents: `import app from ${JSON.stringify(appPath)}\n${code}`,
    resolveDir: ROOT,
    loader: 'ts' as const,
  })
  const log = `{ log: (m) => process.stderr.write(m + '\\n') }`
  // The conformance app runs as it is. A framework app is adapted as a `tsgi build` script does
  // (src/build/cgi-script.ts: run.js first, then the module, then runCgiExport), and as the CLI does for
  // the fd-0 responder (adapt, by the export's shape).
  const cgiEntry =
    mount === undefined
      ? // run.js before the app, as the integration's cgi-entry does: loading it scrubs HTTP_PROXY (httpoxy).
        `import { runCgi } from './src/gateways/cgi/run.js'\nimport app from ${JSON.stringify(appPath)}\nvoid runCgi(app)\n`
      : `import { runCgiExport } from './src/gateways/cgi/run.js'\nimport * as app from ${JSON.stringify(appPath)}\n` +
        `void runCgiExport(app, 'default', ${JSON.stringify(basename(appPath))}, ${JSON.stringify({ mount, shape })})\n`
  const autoEntry =
    mount === undefined
      ? `import { serveAuto } from './src/gateways/auto.js'\nvoid serveAuto(app, ${log})\n`
      : `import { serveAuto } from './src/gateways/auto.js'\nimport { adapt, shapeOf } from './src/bridges/shape.js'\n` +
        `void adapt(app, shapeOf(app, ${JSON.stringify(shape)}), ${JSON.stringify(mount)}).then((tsgi) => serveAuto(tsgi, ${log}))\n`
  await Promise.all([
    build({ ...common, format: 'cjs', outfile: join(dir, 'cgi.cjs'), stdin: { ...entry(''), contents: cgiEntry } }),
    build({ ...common, format: 'cjs', outfile: join(dir, 'auto.cjs'), stdin: entry(autoEntry) }),
    build({
      ...common,
      format: 'esm',
      outfile: join(dir, 'app.mjs'),
      stdin: entry('export default app\n'),
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    }),
  ])
  return { cgi: join(dir, 'cgi.cjs'), auto: join(dir, 'auto.cjs'), module: join(dir, 'app.mjs'), dir }
}

export function removeBundles(): void {
  for (const dir of bundleDirs) rmSync(dir, { recursive: true, force: true })
  bundleDirs.clear()
  built.clear()
}
