/**
 * The seam between the delivery layer and Socket.IO: what a conversation feed needs from
 * a connection, and nothing more. `socket.ts` adapts the real socket to it; tests use a
 * fake. Nothing here imports Vue or socket.io-client.
 */
import type { Ack, AckFn, ClientToServerEvents, ServerToClientEvents } from "../../../shared/protocol.js";

export type RequestEvent = keyof ClientToServerEvents;
export type PayloadOf<E extends RequestEvent> = Parameters<ClientToServerEvents[E]>[0];
export type ResultOf<E extends RequestEvent> =
  NonNullable<Parameters<ClientToServerEvents[E]>[1]> extends AckFn<infer R> ? R : never;
export type PushEvent = keyof ServerToClientEvents;

/**
 * `connecting` before the first connection, `reconnecting` after losing one,
 * `unauthorized` when the desk refused the credential, `closed` once we hung up.
 */
export type LinkStatus = "connecting" | "connected" | "reconnecting" | "unauthorized" | "closed";

export interface DeskLink {
  readonly status: LinkStatus;
  /** Emits with an acknowledgement; rejects with `AckTimeoutError` if none comes in time. */
  request<E extends RequestEvent>(event: E, payload: PayloadOf<E>): Promise<Ack<ResultOf<E>>>;
  /** Subscribes to a server event; returns the unsubscribe function. */
  on<E extends PushEvent>(event: E, listener: ServerToClientEvents[E]): () => void;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (status: LinkStatus) => void): () => void;
}

export class AckTimeoutError extends Error {
  constructor(
    readonly event: string,
    readonly timeoutMs: number,
  ) {
    super(`No acknowledgement for "${event}" within ${timeoutMs} ms`);
    this.name = "AckTimeoutError";
  }
}

/** A random idempotency key; works outside secure contexts, unlike `crypto.randomUUID`. */
export function newClientId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
