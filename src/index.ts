// The `tsgi` entry point: the TSGI contract (types), the one error class, and the pieces an app or a
// middleware author needs: callApp, the engine a custom gateway uses, and the request body stream.
export type {
  App,
  AppClass,
  AppFunction,
  AppObject,
  Body,
  Chunk,
  Environ,
  ErrorStream,
  FastcgiRole,
  HeaderList,
  InputStream,
  Middleware,
  StartResponse,
  Write,
} from './app.js'
export { TsgiError, isTsgiError, type ErrorCode, type TsgiErrorOptions } from './errors.js'
export { callApp, isApp } from './core/call.js'
export { runApp, type AbortState, type ResponseSink, type RunOptions, type RunResult } from './core/engine.js'
export { LazyAbort } from './core/abort.js'
export { BodyInput, type BodyInputOptions } from './core/input.js'
