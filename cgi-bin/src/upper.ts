// CGI entry for examples/upper.ts: bundled to cgi-bin/dist/upper.cjs by `npm run build`, run by cgi-bin/upper.

import app from '../../examples/upper.js'
import { runCgi } from '../../src/gateways/cgi/run.js' // first: loading it scrubs HTTP_PROXY before the app loads

void runCgi(app)
