/** An in-memory `DeskLink`: records requests for the test to answer, lets it push events. */
import type { Ack, Message, ServerToClientEvents } from "../../shared/protocol.js";
import type { DeskLink, LinkStatus, PayloadOf, PushEvent, RequestEvent, ResultOf } from "../../client/src/delivery/link.js";

export interface PendingRequest<E extends RequestEvent = RequestEvent> {
  event: E;
  payload: PayloadOf<E>;
  answer(res: Ack<ResultOf<E>>): void;
  fail(err: Error): void;
}

export class FakeLink implements DeskLink {
  status: LinkStatus = "connected";
  readonly requests: PendingRequest[] = [];
  #listeners = new Map<PushEvent, Set<(...args: never[]) => void>>();
  #watchers = new Set<(s: LinkStatus) => void>();

  request<E extends RequestEvent>(event: E, payload: PayloadOf<E>): Promise<Ack<ResultOf<E>>> {
    return new Promise((resolve, reject) => {
      this.requests.push({ event, payload, answer: resolve, fail: reject } as unknown as PendingRequest);
    });
  }

  on<E extends PushEvent>(event: E, listener: ServerToClientEvents[E]): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    set.add(listener as (...args: never[]) => void);
    this.#listeners.set(event, set);
    return () => set.delete(listener as (...args: never[]) => void);
  }

  onStatus(listener: (s: LinkStatus) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  push<E extends PushEvent>(event: E, ...args: Parameters<ServerToClientEvents[E]>): void {
    for (const l of this.#listeners.get(event) ?? []) (l as (...a: unknown[]) => void)(...args);
  }

  setStatus(status: LinkStatus): void {
    this.status = status;
    for (const w of this.#watchers) w(status);
  }

  /** Removes and returns the pending requests for one event. */
  take<E extends RequestEvent>(event: E): PendingRequest<E>[] {
    const taken = this.requests.filter((r) => r.event === event);
    for (const r of taken) this.requests.splice(this.requests.indexOf(r), 1);
    return taken as unknown as PendingRequest<E>[];
  }

  listenerCount(): number {
    let n = this.#watchers.size;
    for (const set of this.#listeners.values()) n += set.size;
    return n;
  }
}

export function message(seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    conversationId: "c1",
    seq,
    author: { role: "agent", id: "a1", name: "Ada" },
    body: `message ${seq}`,
    createdAt: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    ...extra,
  };
}

export function conversation(lastSeq: number) {
  return {
    id: "c1",
    status: "assigned" as const,
    customer: { name: "Cleo", online: true },
    assignee: { id: "a1", name: "Ada" },
    createdAt: "2025-01-01T12:00:00.000Z",
    updatedAt: new Date(Date.UTC(2025, 0, 1, 12, 0, lastSeq)).toISOString(),
    lastSeq,
  };
}
