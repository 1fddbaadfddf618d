/** What the HTTP API and the socket handlers share: one message for a schema failure, one error mapping. */
import type { z } from "zod";
import { DeskError, type WireError } from "../shared/errors.js";
import type { Logger } from "./log.js";
import { isStoreUnavailable } from "./store/store.js";

/** `invalid_payload` naming the first problem: "email: Invalid email address". */
export function invalidPayload(error: z.ZodError): DeskError {
  const issue = error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return new DeskError("invalid_payload", `${where}${issue?.message ?? "invalid"}`);
}

/** A failure as the wire carries it: the desk's own errors as they are, an unreachable store as `unavailable`, anything else `internal` (and logged). */
export function toWireError(err: unknown, log: Logger, context: Record<string, unknown>): WireError {
  if (err instanceof DeskError) return err.toWire();
  if (isStoreUnavailable(err)) return new DeskError("unavailable").toWire();
  log.error({ err, ...context }, "request failed");
  return new DeskError("internal").toWire();
}
