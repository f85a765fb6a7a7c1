// CGI entry for examples/echo.ts: bundled to cgi-bin/dist/echo.cjs by `npm run build`, run by cgi-bin/echo.

import app from '../../examples/echo.js'
import { runCgi } from '../../src/gateways/cgi/run.js' // first: loading it scrubs HTTP_PROXY before the app loads

void runCgi(app)
