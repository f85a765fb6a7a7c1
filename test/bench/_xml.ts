// A small XML well-formedness check for the bench's SVG and HTML output: tags nest and close, attributes
// are quoted, and text has no bare `<` or `&` outside an entity. Returns the problems found.

const NAME = '[A-Za-z_][\\w.:-]*'
const ATTR = new RegExp(`\\s+${NAME}\\s*=\\s*("[^"<]*"|'[^'<]*')`, 'y')
const ENTITY = /&(#\d+|#x[\da-fA-F]+|amp|lt|gt|quot|apos);/y

export function xmlProblems(text: string, { voidTags = [] as string[] } = {}): string[] {
  const problems: string[] = []
  const open: string[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === '&') {
      ENTITY.lastIndex = i
      if (!ENTITY.test(text)) problems.push(`bare & at ${i}`)
      i++
    } else if (c !== '<') i++
    else if (text.startsWith('<!--', i)) i = skipTo(text, '-->', i, problems)
    else if (text.startsWith('<!', i) || text.startsWith('<?', i)) i = skipTo(text, '>', i, problems)
    else if (text[i + 1] === '/') i = closeTag(text, i, open, problems)
    else i = openTag(text, i, open, problems, voidTags)
  }
  for (const name of open) problems.push(`<${name}> never closed`)
  return problems
}

function skipTo(text: string, end: string, i: number, problems: string[]): number {
  const at = text.indexOf(end, i)
  if (at < 0) problems.push(`unterminated markup at ${i}`)
  return at < 0 ? text.length : at + end.length
}

function closeTag(text: string, i: number, open: string[], problems: string[]): number {
  const m = new RegExp(`</(${NAME})\\s*>`, 'y')
  m.lastIndex = i
  const match = m.exec(text)
  if (!match) {
    problems.push(`bad closing tag at ${i}`)
    return i + 2
  }
  const expected = open.pop()
  if (expected !== match[1]) problems.push(`</${match[1]}> closes <${expected}> at ${i}`)
  return m.lastIndex
}

function openTag(text: string, i: number, open: string[], problems: string[], voidTags: string[]): number {
  const name = new RegExp(NAME, 'y')
  name.lastIndex = i + 1
  const match = name.exec(text)
  if (!match) {
    problems.push(`bare < at ${i}`)
    return i + 1
  }
  let at = name.lastIndex
  for (ATTR.lastIndex = at; ATTR.exec(text); ATTR.lastIndex = at) at = ATTR.lastIndex
  const end = /\s*(\/?)>/y
  end.lastIndex = at
  const close = end.exec(text)
  if (!close) {
    problems.push(`bad attributes in <${match[0]}> at ${at}: ${JSON.stringify(text.slice(at, at + 40))}`)
    return at + 1
  }
  if (close[1] !== '/' && !voidTags.includes(match[0].toLowerCase())) open.push(match[0])
  return end.lastIndex
}
