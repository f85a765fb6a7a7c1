// Bench fixture: an Express hello world, the same bytes as the other hellos.
import express from 'express'

const app = express()
app.get('/', (_req, res) => {
  res.type('text/plain').send('Hello world!\n')
})
export default app
