// Middleware shipped with tsgi (SPEC §6). Each is `(app: App) => App` and depends only on the contract.

export type { LocalRedirectOptions } from './local-redirect.js'
export { localRedirects } from './local-redirect.js'
export type { ValidateOptions } from './validate.js'
export { validate } from './validate.js'
