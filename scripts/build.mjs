// `npm run build`: the CGI bundles cgi-bin/dist/<name>.cjs (esbuild: one CommonJS file per cgi-bin/src/*.ts,
// the cheapest thing Node 20 can start, docs/performance.md) and dist/ (tsc: the library and its .d.ts).
// `node scripts/build.mjs --cgi` builds only the bundles (the CGI tests and benchmark need nothing else).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

/** Bundles every cgi-bin/src/*.ts; returns the paths written. */
export async function buildCgi() {
  const srcDir = join(root, 'cgi-bin', 'src')
  const outDir = join(root, 'cgi-bin', 'dist')
  const entryPoints = readdirSync(srcDir)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => join(srcDir, name))
  const result = await build({
    entryPoints,
    outdir: outDir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'warning',
    legalComments: 'none',
    // Keeps class names (tsgi.input shows as BodyInput, not _BodyInput) for logs and environ dumps.
    keepNames: true,
  })
  mkdirSync(outDir, { recursive: true })
  // Write then rename: a CGI script running (or a test building) at the same moment never sees half a file.
  for (const file of result.outputFiles) {
    const temp = `${file.path}.${process.pid}.tmp`
    writeFileSync(temp, file.contents)
    renameSync(temp, file.path)
  }
  return result.outputFiles.map((file) => relative(root, file.path))
}

/** tsc -p tsconfig.build.json: dist/ with declarations. Returns tsc's exit status. */
export function buildLibrary() {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const run = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  return run.status ?? 1
}

async function main() {
  const written = await buildCgi()
  console.log(`build: ${written.length} CGI bundles in cgi-bin/dist`)
  if (process.argv.includes('--cgi')) return
  const status = buildLibrary()
  if (status !== 0) {
    console.error(`build: tsc -p tsconfig.build.json failed (exit ${status})`)
    process.exitCode = 1
    return
  }
  console.log('build: dist/ (tsc)')
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
