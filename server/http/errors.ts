/** One error shape for the whole API, and the final error handler. */
import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import type { z } from "zod";
import { HTTP_STATUS, type WireError } from "../../shared/errors.js";
import type { Logger } from "../log.js";
import { invalidPayload, toWireError } from "../wire-errors.js";

/** Parses `req.body` (or another value) with a schema, or throws `invalid_payload`. */
export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw invalidPayload(result.error);
}

export const notFound: RequestHandler = (_req, res) => {
  res.status(404).json({ error: { code: "not_found", message: "No such endpoint." } });
};

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req: Request, res, _next) => {
    let error: WireError;
    let status: number;
    // what Express and its body parser refuse first, then the desk's own mapping
    if (err?.type === "entity.too.large") {
      error = { code: "payload_too_large", message: "The body is larger than 16 KiB." };
      status = 413;
    } else if (err?.type === "entity.parse.failed" || err?.type === "encoding.unsupported" || err?.type === "charset.unsupported") {
      error = { code: "invalid_payload", message: "The body is not valid JSON." };
      status = 400;
    } else if (err?.status === 404) {
      error = { code: "not_found", message: "Not found." };
      status = 404;
    } else if (typeof err?.status === "number" && err.status >= 400 && err.status < 500) {
      // what Express itself refuses (a malformed URL encoding, …) is the client's error
      error = { code: "invalid_payload", message: "The request is malformed." };
      status = err.status;
    } else {
      error = toWireError(err, log, { path: req.path });
      status = HTTP_STATUS[error.code];
    }
    if (res.headersSent) return;
    res.status(status).json({ error });
  };
}
