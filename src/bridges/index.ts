// The `tsgi/bridges` entry point: the apps people already have, served by every tsgi gateway (Fetch
// handlers such as Hono, Node listeners such as Express), and TSGI apps served where those are expected.
export { type FetchApp, type FetchHandler, type FromFetchOptions, fromFetch } from './fetch.js'
export { type FromNodeOptions, fromNode, type NodeListener } from './node.js'
export { type ToFetchOptions, toFetch } from './to-fetch.js'
export { toNode } from './to-node.js'
export type { MountOptions } from './url.js'
