// A Hono app, unchanged, served by tsgi: `tsgi serve examples/hono.ts` (the dev server), `tsgi build
// examples/hono.ts --out cgi-bin/hono` (CGI), `tsgi fastcgi examples/hono.ts --listen ...` (FastCGI).
// tsgi sees its `fetch` method; the environ is `c.env`.
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { stream } from 'hono/streaming'

const app = new Hono()

app.get('/', (c) => c.text(`Hello from Hono at ${new URL(c.req.url).pathname}\n`))
app.get('/users/:id', (c) => c.json({ id: c.req.param('id'), q: c.req.query('q') ?? null }))
app.post('/json', async (c) => c.json({ got: await c.req.json() }))
app.post('/form', async (c) => c.json({ got: Object.fromEntries(Object.entries(await c.req.parseBody())) }))
app.get('/redirect', (c) => c.redirect('/users/1'))
app.get('/cookies', (c) => {
  setCookie(c, 'a', '1')
  setCookie(c, 'b', '2', { path: '/' })
  return c.text('two cookies\n')
})
app.get('/stream', (c) =>
  stream(c, async (out) => {
    for (let i = 0; i < 3; i++) {
      await out.write(`chunk ${i}\n`)
      await out.sleep(50)
    }
  }),
)
app.get('/fail', () => {
  throw new Error('hono handler failed')
})

export default app
