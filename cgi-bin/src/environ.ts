// CGI entry for examples/environ.ts: bundled to cgi-bin/dist/environ.cjs by `npm run build`, run by cgi-bin/environ.

import app from '../../examples/environ.js'
import { runCgi } from '../../src/gateways/cgi/run.js' // first: loading it scrubs HTTP_PROXY before the app loads

void runCgi(app)
