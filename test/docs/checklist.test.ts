// Every citation in the repository must resolve inside it: checklist ids (F-, C-, O-, S-, V-) to one sourced entry in
// docs/checklist.md, `SPEC §n` to a heading of docs/SPEC.md, and nothing may point at notes kept outside the repo.

import { type Dirent, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = decodeURIComponent(new URL('../..', import.meta.url).pathname)
const DIRS = ['src', 'test', 'bench', 'examples', 'cgi-bin', 'scripts', 'bin', 'docs']
const TOP_FILES = ['README.md', 'apache.conf.example']
const SKIP_DIRS = new Set(['node_modules', 'dist', '.tmp'])
const TEXT_EXTS = new Set(['.ts', '.js', '.mjs', '.cjs', '.md', '.conf', '.json', '.example'])
const CHECKLIST = 'docs/checklist.md'
const SPEC = 'docs/SPEC.md'

const ID = /\b[CFOSV]-\d{2}\b/g
const ENTRY = /^- \*\*([CFOSV]-\d{2})\*\*/
// Notes that live outside the repository (spelled in pieces so this file does not cite them itself).
const OUTSIDE_NOTES = ['protocol', 'prior-art', 'perf-anchors', 'style'].join('|')
const OUTSIDE = new RegExp(`(?<![\\w.-])(?:${OUTSIDE_NOTES})\\.md\\b|\\breference [CFSV]-\\d{2}\\b`, 'g')
const SPEC_CITE = /SPEC §(\d+(?:\.\d+)*)/g
const SPEC_HEADING = /^#{2,4} (\d+(?:\.\d+)*)\.?(?:\s|$)/

interface Hit {
  text: string
  group: string
  where: string
}

/** File contents, or '' when the file vanished (files are being moved around) or is binary. */
function read(path: string): string {
  try {
    const text = readFileSync(join(ROOT, path), 'utf8')
    return text.includes('\0') ? '' : text
  } catch {
    return ''
  }
}

/** Text files worth scanning: known extensions, and extensionless scripts (binary ones read as ''). */
function isScanned(name: string): boolean {
  return TEXT_EXTS.has(extname(name)) || !name.includes('.')
}

/** Directory entries of `dir`, or none when it vanished (files are being moved around). */
function entries(dir: string): Dirent[] {
  try {
    return readdirSync(join(ROOT, dir), { withFileTypes: true })
  } catch {
    return []
  }
}

/** Repository-relative paths of the scanned files under `dir`. */
function walk(dir: string): string[] {
  return entries(dir).flatMap((entry) => {
    const path = `${dir}/${entry.name}`
    if (entry.isDirectory()) return SKIP_DIRS.has(entry.name) || entry.name.startsWith('.') ? [] : walk(path)
    return entry.isFile() && isScanned(entry.name) ? [path] : []
  })
}

function scannedFiles(): string[] {
  return [...DIRS.flatMap(walk), ...TOP_FILES]
}

/** Every match of the global `pattern` in `files`, with its first group and its file:line. */
function hits(pattern: RegExp, files: string[]): Hit[] {
  return files.flatMap((file) =>
    read(file)
      .split('\n')
      .flatMap((line, i) =>
        [...line.matchAll(pattern)].map((m) => ({ text: m[0], group: m[1] ?? m[0], where: `${file}:${i + 1}` })),
      ),
  )
}

/** One line per offender, grouped by what was cited: `<id>: src/a.ts:3, test/b.test.ts:7`. */
function report(list: Hit[]): string[] {
  const byCited = new Map<string, string[]>()
  for (const hit of list) byCited.set(hit.text, [...(byCited.get(hit.text) ?? []), hit.where])
  return [...byCited].map(([cited, where]) => `${cited}: ${where.join(', ')}`).sort()
}

function checklistLines(): string[] {
  return read(CHECKLIST).split('\n')
}

function definedIds(): string[] {
  return checklistLines().flatMap((line) => ENTRY.exec(line)?.[1] ?? [])
}

function specSections(): Set<string> {
  return new Set(
    read(SPEC)
      .split('\n')
      .flatMap((line) => SPEC_HEADING.exec(line)?.[1] ?? []),
  )
}

describe('docs/checklist.md', () => {
  it('defines every checklist id cited in the repository', () => {
    const defined = new Set(definedIds())
    expect(defined.size, `${CHECKLIST} has no "- **X-NN**" entries`).toBeGreaterThan(0)
    const cited = hits(
      ID,
      scannedFiles().filter((file) => file !== CHECKLIST),
    )
    const missing = cited.filter((hit) => !defined.has(hit.text))
    expect(report(missing), `ids cited but not defined in ${CHECKLIST}`).toEqual([])
  })

  it('defines each id once, and every entry names its source', () => {
    const ids = definedIds()
    const twice = [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))]
    expect(twice, `ids defined more than once in ${CHECKLIST}`).toEqual([])
    const unsourced = checklistLines().filter((line) => ENTRY.test(line) && !line.includes('Source:'))
    expect(
      unsourced.map((line) => ENTRY.exec(line)?.[1]),
      `entries without "Source:"`,
    ).toEqual([])
  })
})

describe('citations resolve inside the repository', () => {
  it('cites no document that is kept outside the repository', () => {
    const outside = hits(OUTSIDE, scannedFiles())
    expect(report(outside), `cite ${CHECKLIST} (by id) or docs/SPEC.md instead`).toEqual([])
  })

  it('every SPEC §n citation names a heading of docs/SPEC.md', () => {
    const sections = specSections()
    expect(sections.size, `${SPEC} has no numbered "## n." headings`).toBeGreaterThan(0)
    const dangling = hits(SPEC_CITE, scannedFiles()).filter((hit) => !sections.has(hit.group))
    expect(report(dangling), `SPEC § citations with no such heading in ${SPEC}`).toEqual([])
  })
})
