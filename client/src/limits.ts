/**
 * The protocol's limits, for validating in the browser before the desk does.
 * Kept as the single client import of runtime values from shared/protocol.ts, which also
 * carries the zod schemas (and zod, ~30 kB gzip) into the bundle; if LIMITS moves to a
 * zod-free shared module, only this line changes.
 */
export { LIMITS } from "../../shared/protocol.js";
