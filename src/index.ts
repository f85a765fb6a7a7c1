// The `tsgi` entry point: the TSGI contract (types), the one error class, and what an app, middleware
// or custom gateway author needs: callApp, the engine a gateway drives, and the request body stream.
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
export { callApp, isApp } from './core/call.js'
export { type ResponseSink, type RunOptions, type RunResult, runApp } from './core/engine.js'
export { BodyInput, type BodyInputOptions } from './core/input.js'
export { type ErrorCode, isTsgiError, TsgiError, type TsgiErrorOptions } from './errors.js'
