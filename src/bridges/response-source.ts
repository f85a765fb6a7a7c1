// The bytes a Response was made from, when it was made from a string or bytes: sent as they are, with a
// Content-Length, instead of through a ReadableStream and its reader (docs/performance.md, "Bridges").
// It reads undici's internal state where Node exposes it (20, 22); elsewhere, or for any other body,
// undefined: the caller streams the body as usual.

const STATE = stateSymbol()

function stateSymbol(): symbol | undefined {
  try {
    return Object.getOwnPropertySymbols(new Response('')).find((s) => s.description === 'state')
  } catch {
    return undefined
  }
}

interface BodyState {
  body?: { source?: unknown; stream?: unknown } | null
}

/** The string or bytes `response` holds, unless its body was read or is anything else. */
export function bodySource(response: Response): string | Uint8Array | undefined {
  if (STATE === undefined || response.bodyUsed) return undefined
  const state = (response as unknown as Record<symbol, BodyState | undefined>)[STATE]
  const source = state?.body?.source
  return typeof source === 'string' || source instanceof Uint8Array ? source : undefined
}
