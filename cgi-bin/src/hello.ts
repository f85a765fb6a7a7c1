// CGI entry for examples/hello.ts: bundled to cgi-bin/dist/hello.cjs by `npm run build`, run by cgi-bin/hello.

import app from '../../examples/hello.js'
import { runCgi } from '../../src/gateways/cgi/run.js' // first: loading it scrubs HTTP_PROXY before the app loads

void runCgi(app)
