// The layers of src/ (README "Layout"): imports point down, never up, and no two modules import each
// other, directly or in a ring. The pure layers (core, protocol) import no node:* module, and the
// FastCGI codec uses no Buffer, so they run unchanged on any JavaScript runtime.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const SRC = resolve(import.meta.dirname, '../../src')

/**
 * Rank of each folder, bottom first; a module may import its own rank or lower. The README's five layers:
 * 1 = rank 0, 2 = ranks 1 (core) and 2 (protocol), 3 = rank 3, 4 = rank 4, 5 = ranks 5 and 6 (cli last).
 */
const LAYERS: Array<[rank: number, prefixes: string[]]> = [
  [0, ['app.ts', 'errors.ts', 'version.ts']],
  [1, ['core/']],
  [2, ['protocol/']],
  [3, ['net/']],
  [4, ['gateways/', 'hosts/', 'bridges/', 'middleware/']],
  [5, ['front/', 'pm/', 'bench/', 'build/']],
  [6, ['cli/']],
  // The package's root entry re-exports from below and is imported by nothing in src/.
  [7, ['index.ts']],
]

function rankOf(file: string): number {
  for (const [rank, prefixes] of LAYERS) if (prefixes.some((p) => file === p || file.startsWith(p))) return rank
  throw new Error(`src/${file} is in no layer: add its folder to LAYERS and to the README's Layout`)
}

function sources(dir = SRC): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return name.endsWith('.ts') ? [relative(SRC, path)] : []
  })
}

const SPECIFIER = /\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm

/** Every module specifier in `file`: static, dynamic and side-effect imports, types included. */
function specifiers(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8')
  return [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? m[2] ?? m[3]!)
}

/** The src-relative path a relative specifier points at (`./x.js` is `x.ts`). */
function target(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined
  return relative(SRC, resolve(SRC, dirname(file), spec)).replace(/\.js$/, '.ts')
}

const files = sources()
const graph = new Map(files.map((file) => [file, specifiers(file)]))

describe('layers', () => {
  it('every import points to its own layer or below', () => {
    const up: string[] = []
    for (const [file, specs] of graph) {
      for (const spec of specs) {
        const to = target(file, spec)
        if (to !== undefined && rankOf(to) > rankOf(file)) up.push(`src/${file} imports src/${to}`)
      }
    }
    expect(up).toEqual([])
  })

  it('no two modules depend on each other, directly or through others', () => {
    expect(cycles()).toEqual([])
  })

  it('core/ and protocol/ import no node:* module; the FastCGI codec uses no Buffer', () => {
    const impure: string[] = []
    for (const [file, specs] of graph) {
      if (!file.startsWith('core/') && !file.startsWith('protocol/')) continue
      for (const spec of specs) if (spec.startsWith('node:')) impure.push(`src/${file} imports ${spec}`)
      const text = readFileSync(join(SRC, file), 'utf8')
      if (file.startsWith('protocol/') && /\bBuffer\./.test(text)) impure.push(`src/${file} uses Buffer`)
    }
    expect(impure).toEqual([])
  })
})

/** Each ring of imports, as `a -> b -> a` (depth-first search over the relative imports). */
function cycles(): string[] {
  const found: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open')
    for (const spec of graph.get(file) ?? []) {
      const to = target(file, spec)
      if (to === undefined || !graph.has(to)) continue
      if (state.get(to) === 'open') found.push([...path.slice(path.indexOf(to)), to].join(' -> '))
      else if (!state.has(to)) visit(to, [...path, to])
    }
    state.set(file, 'done')
  }
  for (const file of files) if (!state.has(file)) visit(file, [file])
  return found
}
