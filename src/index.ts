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
export { LazyAbort } from './core/abort.js'
export { callApp, isApp } from './core/call.js'
export { type AbortState, type ResponseSink, type RunOptions, type RunResult, runApp } from './core/engine.js'
export { BodyInput, type BodyInputOptions } from './core/input.js'
export { type ErrorCode, isTsgiError, TsgiError, type TsgiErrorOptions } from './errors.js'
