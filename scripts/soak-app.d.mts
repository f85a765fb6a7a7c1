// Types of scripts/soak-app.mjs for scripts/soak.ts (the app stays JavaScript: workers load it without tsx).
export const MIB: number
export const PATTERN: Buffer
export default function app(environ: Record<string, unknown>, startResponse: unknown): Promise<unknown>
