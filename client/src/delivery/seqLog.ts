import type { Message } from "../../../shared/protocol.js";

/**
 * The messages of one conversation, merged by `seq`: a seq already held is a duplicate
 * and is dropped. Tracks the highest seq up to which nothing is missing, which is what
 * `history` is asked from, and whether anything newer arrived past a hole.
 */
export class SeqLog {
  #bySeq = new Map<number, Message>();
  #clientIds = new Set<string>();
  #contiguous = 0;
  #max = 0;
  #sorted: Message[] | null = [];

  /** Highest seq such that every seq from 1 to it is held (0 when empty). */
  get contiguous(): number {
    return this.#contiguous;
  }

  /** Highest seq held. */
  get max(): number {
    return this.#max;
  }

  /** True when a message past a missing seq is held: the hole must be fetched. */
  get hasGap(): boolean {
    return this.#max > this.#contiguous;
  }

  /** Adds a message; returns false (and changes nothing) if its seq is already held. */
  add(message: Message): boolean {
    if (this.#bySeq.has(message.seq)) return false;
    this.#bySeq.set(message.seq, message);
    if (message.clientId) this.#clientIds.add(message.clientId);
    if (message.seq > this.#max) this.#max = message.seq;
    while (this.#bySeq.has(this.#contiguous + 1)) this.#contiguous++;
    this.#sorted = null;
    return true;
  }

  hasClientId(clientId: string): boolean {
    return this.#clientIds.has(clientId);
  }

  /** Every held message, in seq order. */
  list(): readonly Message[] {
    this.#sorted ??= [...this.#bySeq.values()].sort((a, b) => a.seq - b.seq);
    return this.#sorted;
  }
}
