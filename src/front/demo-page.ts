// The page `npm start` serves at /: what CGI and FastCGI are, the same app both ways, and a button that
// asks the server for a short comparison (POST /api/compare) and shows its chart.

export function demoPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tsgi: CGI and FastCGI side by side</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }
  code { background: #f3f4f6; padding: 0 .25em; border-radius: 3px; }
  .modes { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
  .mode { border: 1px solid #d0d7de; border-radius: 8px; padding: 1rem; }
  .mode a { font-weight: 600; }
  button { font: inherit; padding: .5em 1.2em; border-radius: 6px; border: 1px solid #1f6feb; background: #1f6feb; color: #fff; cursor: pointer; }
  button[disabled] { opacity: .6; cursor: progress; }
  table { border-collapse: collapse; margin-top: 1rem; }
  td, th { padding: .2em .8em; border-bottom: 1px solid #d0d7de; text-align: right; }
  td:first-child, th:first-child { text-align: left; }
  #status { color: #57606a; margin-left: 1em; }
</style>
</head>
<body>
<h1>tsgi: one app, two ways to serve it</h1>
<p>An app is a function of the request's CGI variables (RFC 3875): <code>(environ, startResponse) =&gt; body</code>,
as in Python's WSGI. The same hello-world app runs behind both links below, through this page's small HTTP front.</p>
<div class="modes">
  <div class="mode">
    <a id="cgi-link" href="/cgi-bin/hello">/cgi-bin/hello</a>
    <p><b>CGI</b>: the front starts a new process for every request, hands it the request in environment
    variables and stdin, and reads the response from its stdout. Simple and isolated; you pay for a process start each time.</p>
  </div>
  <div class="mode">
    <a id="fcgi-link" href="/fcgi/hello">/fcgi/hello</a>
    <p><b>FastCGI</b>: one resident process keeps the app loaded and gets the same variables as
    records over a kept socket. The start-up is paid once.</p>
  </div>
</div>
<h2>What does a new process per request cost?</h2>
<p><button id="compare">Run a short comparison</button><span id="status"></span></p>
<div id="result"></div>
<script>
const button = document.getElementById('compare')
const status = document.getElementById('status')
const result = document.getElementById('result')
button.addEventListener('click', async () => {
  button.disabled = true
  status.textContent = 'measuring on the server for a few seconds...'
  try {
    const response = await fetch('/api/compare', { method: 'POST' })
    if (!response.ok) throw new Error(response.status + ' ' + response.statusText)
    const data = await response.json()
    result.innerHTML = data.svg + table(data.rows)
    status.textContent = ''
  } catch (error) {
    status.textContent = 'failed: ' + error.message
  } finally {
    button.disabled = false
  }
})
function table(rows) {
  const ms = (us) => (us / 1000).toFixed(2)
  const body = rows.map((r) => '<tr><td>' + r.name + '</td><td>' + r.count + '</td><td>' + ms(r.p50us) +
    '</td><td>' + ms(r.p99us) + '</td><td>' + r.ratio.toFixed(1) + 'x</td></tr>').join('')
  return '<table id="rows"><tr><th>mode</th><th>requests</th><th>median ms</th><th>p99 ms</th><th>vs fastest</th></tr>' + body + '</table>'
}
</script>
</body>
</html>
`
}
