// The bridge benches' entries (generator, hellos in each style, the frameworks' own servers) compiled once
// by esbuild to ESM in a temp dir.
import { join } from 'node:path'
import { bundle } from '../fastcgi/servers.js'

export const ENTRIES = {
  loadgen: 'bench/fastcgi/loadgen.ts',
  'tsgi-hello': 'examples/hello.ts',
  'http-hello': 'bench/fastcgi/http-hello.ts',
  'hono-hello': 'bench/bridges/hono-hello.ts',
  'express-hello': 'bench/bridges/express-hello.ts',
  'express-inject': 'bench/bridges/express-inject.ts',
  'hono-node-server': 'bench/bridges/hono-node-server.ts',
  'express-node-server': 'bench/bridges/express-node-server.ts',
}

/** Compiles ENTRIES into `dir`; returns where each one went. */
export async function compile(dir: string): Promise<(name: keyof typeof ENTRIES) => string> {
  await bundle(ENTRIES, dir)
  return (name) => join(dir, `${name}.mjs`)
}
