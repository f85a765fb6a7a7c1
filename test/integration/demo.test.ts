// `npm start` as a user runs it: the demo page in a real browser (Debian's Chromium through
// playwright-core), both links answering, the comparison chart drawn; Ctrl-C leaves no process behind.
import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findBinary, REQUIRE_SERVERS, ROOT } from './_harness.js'

const browserPath = findBinary('chromium') ?? findBinary('chromium-browser')
const skip = browserPath === undefined && !REQUIRE_SERVERS
if (browserPath === undefined) {
  const why = 'integration: demo page: missing chromium; install with: apt-get install -y chromium'
  if (REQUIRE_SERVERS) throw new Error(why.replace('missing', 'TSGI_REQUIRE_SERVERS=1 but missing'))
  console.warn(why)
}

let npm: ChildProcess
let url = ''
let output = ''

/** Processes in the process group `pgid` (npm, tsx, node, the responder), from /proc. */
function groupMembers(pgid: number): number[] {
  const members: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(name))
    } catch {}
  }
  return members
}

describe.skipIf(skip)('npm start: the demo page', () => {
  beforeAll(async () => {
    // Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
    npm = spawn('npm', ['start', '--', '--port', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    npm.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    npm.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const deadline = Date.now() + 60_000
    while (!/open (http:\S+)/.test(output)) {
      if (npm.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    url = /open (http:\S+)/.exec(output)![1]!
  }, 90_000)

  afterAll(() => {
    if (npm?.pid !== undefined && groupMembers(npm.pid).length > 0) process.kill(-npm.pid, 'SIGKILL')
  })

  it('serves the page, both links answer, and the button draws a chart with a row per mode', async () => {
    const browser = await chromium.launch({ executablePath: browserPath!, args: ['--no-sandbox'] })
    try {
      const page = await browser.newPage()
      await page.goto(url)
      expect(await page.title()).toContain('CGI and FastCGI')
      for (const id of ['#cgi-link', '#fcgi-link']) {
        const href = await page.getAttribute(id, 'href')
        const response = await page.request.get(new URL(href!, url).href)
        expect(response.status()).toBe(200)
        expect(await response.text()).toBe('Hello world!\n')
      }
      await page.click('#compare')
      await page.waitForSelector('#result svg', { timeout: 30_000 })
      const names = await page.$$eval('#rows tr td:first-child', (cells) => cells.map((c) => c.textContent))
      expect(names).toEqual(['FastCGI (resident)', 'CGI (compiled bundle)', 'CGI (TypeScript via tsx)'])
      const svgText = await page.textContent('#result svg')
      for (const name of names) expect(svgText).toContain(name)
      const box = await page.locator('#result svg').boundingBox()
      expect(box!.width).toBeGreaterThan(200)
    } finally {
      await browser.close()
    }
  }, 60_000)

  it('Ctrl-C stops everything npm start started', async () => {
    const pid = npm.pid!
    expect(groupMembers(pid).length).toBeGreaterThanOrEqual(3) // npm, the demo, the responder
    process.kill(-pid, 'SIGINT')
    const deadline = Date.now() + 10_000
    while (groupMembers(pid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(groupMembers(pid)).toEqual([])
  }, 20_000)
})
