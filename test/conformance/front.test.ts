// The conformance suite through `tsgi front` (src/front): the app as a CGI script the CGI host starts per
// request, and behind a FastCGI prefix forwarded over kept connections.
import { afterAll } from 'vitest'
import { APP_PATH } from '../_bundles.js'
import { conformanceSuite } from '../_conformance.js'
import { frontFactory } from '../_transport-front.js'
import { removeBundles } from '../_transports.js'
import conformanceApp from '../fixtures/conformance-app.js'

afterAll(removeBundles)

const spec = { appPath: APP_PATH, app: conformanceApp }
conformanceSuite(frontFactory('front: CGI', spec, 'cgi'))
conformanceSuite(frontFactory('front: FastCGI', spec, 'fastcgi'))
