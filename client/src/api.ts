/** The desk's HTTP API, typed. Errors arrive as `ApiError` carrying the desk's code and message. */
import type { Agent, Conversation, StartConversationInput } from "../../shared/protocol.js";
import type { ErrorCode, WireError } from "../../shared/errors.js";

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | "network",
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

async function call<T>(method: string, path: string, opts: { body?: unknown; token?: string | null } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch {
    throw new ApiError("network", "Cannot reach the desk. Check your connection and try again.", 0);
  }
  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (data as { error?: WireError } | null)?.error;
    throw new ApiError(error?.code ?? "internal", error?.message ?? `The desk answered ${res.status}.`, res.status);
  }
  return data as T;
}

export const api = {
  startConversation: (input: StartConversationInput) =>
    call<{ conversation: Conversation; customerToken: string }>("POST", "/api/conversations", { body: input }),
  login: (email: string, password: string) =>
    call<{ agent: Agent; token: string }>("POST", "/api/auth/login", { body: { email, password } }),
  logout: (token: string | null) => call<void>("POST", "/api/auth/logout", { token }),
  me: (token: string | null) => call<{ agent: Agent }>("GET", "/api/me", { token }),
  agents: (token: string | null) => call<{ agents: Agent[] }>("GET", "/api/agents", { token }),
};
