// The package version, for SERVER_SOFTWARE and `tsgi --version`. A constant, so the contract layer reads
// no files; test/version.test.ts fails when it differs from package.json.

export const VERSION = '0.1.0'
export const SERVER_SOFTWARE = `tsgi/${VERSION}`
