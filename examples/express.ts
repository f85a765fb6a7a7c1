// An Express app, unchanged, served by tsgi: `tsgi serve examples/express.ts` (the dev server), `tsgi build
// examples/express.ts --out cgi-bin/express` (CGI), `tsgi fastcgi examples/express.ts --listen ...`.
// tsgi recognises an Express app and hands it real node:http req and res objects.
import express from 'express'

const app = express()
app.use(express.json())
app.use(express.urlencoded({ extended: false }))

app.get('/', (req, res) => {
  res.type('text/plain').send(`Hello from Express at ${req.path}\n`)
})
app.get('/users/:id', (req, res) => {
  res.json({ id: req.params.id, q: req.query.q ?? null })
})
app.post('/json', (req, res) => {
  res.json({ got: req.body })
})
app.post('/form', (req, res) => {
  res.json({ got: req.body })
})
app.get('/redirect', (_req, res) => {
  res.redirect('/users/1')
})
app.get('/cookies', (_req, res) => {
  res.cookie('a', '1').cookie('b', '2').type('text/plain').send('two cookies\n')
})
app.get('/stream', (_req, res) => {
  res.type('text/plain')
  let i = 0
  const timer = setInterval(() => {
    res.write(`chunk ${i}\n`)
    if (++i === 3) {
      clearInterval(timer)
      res.end()
    }
  }, 50)
  res.on('close', () => clearInterval(timer))
})
app.get('/fail', () => {
  throw new Error('express handler failed')
})
// Your own error handler runs as on Express's own server; its stderr is the web server's error log (CGI)
// or the responder's. Without one, the error reaches tsgi: a plain 500, the stack logged, never sent.
app.use((error: Error, req: express.Request, res: express.Response, _next: express.NextFunction) => {
  console.error(`${req.method} ${req.originalUrl}: ${error.stack}`)
  res.status(500).type('text/plain').send('Something went wrong on our side.\n')
})

export default app
