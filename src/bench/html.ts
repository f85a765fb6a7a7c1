// `tsgi bench --html FILE`: one self-contained page (no external assets) with the latency chart, the
// table and what its columns mean.
import { latencyChart } from './chart.js'
import { columns, header, legend } from './report.js'
import type { BenchResult } from './types.js'

const STYLE = `body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; color: #222; padding: 0 1em }
h1 { font-size: 1.4em } table { border-collapse: collapse; margin: 1em 0 }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap }
th:first-child, td:first-child { text-align: left } td.skipped { text-align: left; color: #888; font-style: italic }
tr.cgi td:first-child { border-left: 4px solid #d95f02 } tr.resident td:first-child { border-left: 4px solid #1b7f9e }
tr.in-process td:first-child { border-left: 4px solid #7a5cc4 } .legend { color: #555; font-size: 0.92em }
svg { max-width: 100%; height: auto }`

export function formatHtml(result: BenchResult): string {
  const chart = latencyChart(
    result.rows.map((r) => ({
      name: r.name,
      family: r.family,
      samplesUs: r.sampleUs ?? [],
      ...(r.single === undefined ? {} : { p50Us: r.single.p50Us, p99Us: r.single.p99Us }),
      ...(r.skipped === undefined ? {} : { note: `skipped: ${r.skipped}` }),
    })),
    { title: `Latency per request at c=1: ${result.app}`, width: 900 },
  )
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>tsgi bench ${esc(result.app)}</title>`,
    `<style>\n${STYLE}\n</style>`,
    '</head>',
    '<body>',
    `<h1>tsgi bench: ${esc(result.app)}</h1>`,
    `<p>${esc(header(result))}</p>`,
    chart,
    table(result),
    `<div class="legend">${paragraphs([...legend(result), ...result.notes.map((n) => `note: ${n}`)])}</div>`,
    `<p class="legend">took ${result.seconds.toFixed(0)} s</p>`,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

function table(result: BenchResult): string {
  const cols = columns(result)
  const head = `<tr>${cols.map((c) => `<th>${esc(c.title)}</th>`).join('')}</tr>`
  const rows = result.rows.map((r) => {
    if (r.skipped !== undefined)
      return `<tr class="${r.family}"><td>${esc(r.name)}</td><td class="skipped" colspan="${cols.length - 1}">skipped: ${esc(r.skipped)}</td></tr>`
    return `<tr class="${r.family}" title="${esc(r.what)}">${cols.map((c) => `<td>${esc(c.cell(r))}</td>`).join('')}</tr>`
  })
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`
}

/** One paragraph per entry; an indented line continues the one before. */
function paragraphs(lines: string[]): string {
  const joined: string[] = []
  for (const line of lines) {
    if (line.startsWith('  ') && joined.length > 0) joined[joined.length - 1] += ` ${line.trim()}`
    else joined.push(line)
  }
  return joined.map((line) => `<p>${esc(line)}</p>`).join('\n')
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}
