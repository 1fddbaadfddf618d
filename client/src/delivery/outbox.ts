import type { Ack, Message } from "../../../shared/protocol.js";
import type { ErrorCode, WireError } from "../../../shared/errors.js";
import { newClientId } from "./link.js";

export type DeliveryState = "sending" | "sent" | "failed";

export interface Outgoing {
  readonly clientId: string;
  readonly body: string;
  readonly createdAt: string;
  state: DeliveryState;
  /** Why the last attempt failed, when it did. */
  error?: WireError;
  /** The stored message, once acknowledged. */
  message?: Message;
}

export interface OutboxOptions {
  /** One attempt; rejects on timeout. */
  send: (clientId: string, body: string) => Promise<Ack<{ message: Message }>>;
  isConnected: () => boolean;
  onAcked: (message: Message) => void;
  onChange: () => void;
  /** Pauses between automatic attempts while connected; their count bounds the attempts. */
  retryDelaysMs?: readonly number[];
}

/** Failures that may pass by themselves; anything else needs the user to act. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(["rate_limited", "internal", "unavailable"]);
const NO_ANSWER: WireError = { code: "unavailable", message: "The desk did not answer." };

interface Entry extends Outgoing {
  /** Bumped on every attempt; a failure from an older attempt is ignored. */
  attempt: number;
  inFlight: boolean;
  autoRetries: number;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Messages on their way out. Each keeps its clientId for life, so every retry (automatic
 * after a timeout or a transient error, on reconnect, or by the user) is the same
 * message to the desk, which stores it at most once.
 */
export class Outbox {
  #entries: Entry[] = [];
  #opts: Required<OutboxOptions>;

  constructor(opts: OutboxOptions) {
    this.#opts = { retryDelaysMs: [1_000, 3_000, 8_000], ...opts };
  }

  get items(): readonly Outgoing[] {
    return this.#entries;
  }

  /** Queues a new message and sends it if connected. */
  enqueue(body: string, clientId: string = newClientId()): Outgoing {
    const entry: Entry = {
      clientId, body, createdAt: new Date().toISOString(),
      state: "sending", attempt: 0, inFlight: false, autoRetries: 0,
    };
    this.#entries.push(entry);
    this.#opts.onChange();
    void this.#attempt(entry);
    return entry;
  }

  /** The user asked to try a failed message again: same clientId, fresh attempts. */
  retry(clientId: string): void {
    const entry = this.#find(clientId);
    if (!entry || entry.state !== "failed") return;
    entry.state = "sending";
    entry.autoRetries = 0;
    delete entry.error;
    this.#opts.onChange();
    void this.#attempt(entry);
  }

  /** On (re)connect: resend everything not yet acknowledged, except what the desk refused. */
  flush(): void {
    for (const entry of this.#entries) {
      const resend = entry.state === "sending" || (entry.state === "failed" && isTransient(entry.error));
      if (!resend || entry.inFlight) continue;
      if (entry.state === "failed") {
        entry.state = "sending";
        entry.autoRetries = 0;
        delete entry.error;
      }
      void this.#attempt(entry);
    }
    this.#opts.onChange();
  }

  /** The connection dropped: an attempt in flight will never be answered, so forget it. */
  suspend(): void {
    for (const entry of this.#entries) {
      entry.inFlight = false;
      entry.attempt++;
      clearTimeout(entry.timer);
    }
  }

  /** The stored message came back (broadcast or history): this entry is delivered. */
  settle(message: Message): void {
    const entry = message.clientId ? this.#find(message.clientId) : undefined;
    if (!entry || entry.state === "sent") return;
    this.#markSent(entry, message);
  }

  /** Drops delivered entries the caller now holds as stored messages. */
  prune(isHeld: (clientId: string) => boolean): void {
    this.#entries = this.#entries.filter((e) => !(e.state === "sent" && isHeld(e.clientId)));
  }

  dispose(): void {
    for (const entry of this.#entries) clearTimeout(entry.timer);
    this.#entries = [];
  }

  #find(clientId: string): Entry | undefined {
    return this.#entries.find((e) => e.clientId === clientId);
  }

  #markSent(entry: Entry, message: Message): void {
    clearTimeout(entry.timer);
    entry.state = "sent";
    entry.message = message;
    entry.inFlight = false;
    delete entry.error;
    this.#opts.onChange();
  }

  async #attempt(entry: Entry): Promise<void> {
    if (entry.state !== "sending" || entry.inFlight || !this.#opts.isConnected()) return;
    clearTimeout(entry.timer);
    const attempt = ++entry.attempt;
    entry.inFlight = true;
    let error: WireError;
    try {
      const res = await this.#opts.send(entry.clientId, entry.body);
      if (res.ok) {
        // Even a late answer to an older attempt is the one stored message.
        if (!entry.message) {
          this.#markSent(entry, res.message);
          this.#opts.onAcked(res.message);
        }
        return;
      }
      error = res.error;
    } catch {
      error = NO_ANSWER;
    }
    if (attempt !== entry.attempt || entry.state !== "sending") return;
    entry.inFlight = false;
    this.#failOrRetry(entry, error);
  }

  #failOrRetry(entry: Entry, error: WireError): void {
    const delay = this.#opts.retryDelaysMs[entry.autoRetries];
    if (isTransient(error) && delay !== undefined) {
      entry.autoRetries++;
      entry.timer = setTimeout(() => void this.#attempt(entry), delay);
      return;
    }
    entry.state = "failed";
    entry.error = error;
    this.#opts.onChange();
  }
}

function isTransient(error: WireError | undefined): boolean {
  return error !== undefined && TRANSIENT.has(error.code);
}
