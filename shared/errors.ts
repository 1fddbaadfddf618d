/** Error codes every acknowledgement and HTTP error body may carry (SPEC section 3). */
export const ERROR_CODES = [
  "invalid_payload",
  "unauthorized",
  "forbidden",
  "not_found",
  "already_claimed",
  "conversation_closed",
  "rate_limited",
  "internal",
  "unavailable",
  "conflict",
  "payload_too_large",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The error half of every ack and of every HTTP error body. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** HTTP status that fits each code. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_payload: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  already_claimed: 409,
  conflict: 409,
  conversation_closed: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
};

/** A failure the desk expects and explains; anything else is `internal`. */
export class DeskError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = defaultMessage(code),
  ) {
    super(message);
    this.name = "DeskError";
  }

  toWire(): WireError {
    return { code: this.code, message: this.message };
  }
}

function defaultMessage(code: ErrorCode): string {
  switch (code) {
    case "invalid_payload": return "The payload does not match the expected shape.";
    case "unauthorized": return "A valid credential is required.";
    case "forbidden": return "You are not allowed to do this.";
    case "not_found": return "Not found.";
    case "already_claimed": return "Another agent has already claimed this conversation.";
    case "conversation_closed": return "The conversation is closed.";
    case "rate_limited": return "Too many requests; slow down.";
    case "unavailable": return "The desk's store is unreachable; try again shortly.";
    case "conflict": return "The request conflicts with the current state.";
    case "payload_too_large": return "The payload is too large.";
    default: return "Something went wrong on the desk.";
  }
}
