// Bench fixture: a Hono hello world, the same bytes as the other hellos.
import { Hono } from 'hono'

const app = new Hono()
app.get('/', (c) => c.text('Hello world!\n'))
export default app
