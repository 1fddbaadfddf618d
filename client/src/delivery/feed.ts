import type { Conversation, Message } from "../../../shared/protocol.js";
import { LIMITS } from "../limits.js";
import type { WireError } from "../../../shared/errors.js";
import type { DeskLink, LinkStatus } from "./link.js";
import { chatLines, type ChatLine, type Self } from "./lines.js";
import { Outbox } from "./outbox.js";
import { SeqLog } from "./seqLog.js";

export type { ChatLine } from "./lines.js";

export interface FeedSnapshot {
  conversation: Conversation | null;
  lines: readonly ChatLine[];
  /** True once the first `history` answered. */
  loaded: boolean;
  error: WireError | null;
}

export interface FeedOptions {
  link: DeskLink;
  /** The agent's view of one conversation; `null` for a customer, whose socket is bound to one. */
  conversationId: string | null;
  /** Who we are, for our own lines before the desk stores them. */
  self: Self;
  onChange: (snapshot: FeedSnapshot) => void;
  /** How long to wait before checking a `lastSeq` we have not seen a message for. */
  lagCheckMs?: number;
}

/**
 * Everything needed to show one conversation reliably over a connection that comes and
 * goes: history from the highest contiguous seq on every (re)connect, a `history` fetch
 * for any hole a `message:new` reveals, duplicates merged by seq, and our own messages
 * retried with the same clientId until the desk acknowledges them.
 */
export class ConversationFeed {
  readonly log = new SeqLog();
  readonly outbox: Outbox;
  #opts: FeedOptions;
  #conversation: Conversation | null = null;
  #loaded = false;
  #error: WireError | null = null;
  #syncing: Promise<void> | null = null;
  #syncAgain = false;
  #lagTimer?: ReturnType<typeof setTimeout>;
  #unsubscribe: Array<() => void> = [];
  /** Set while merging a history page, to report one change instead of one per message. */
  #quiet = false;

  constructor(opts: FeedOptions) {
    this.#opts = opts;
    const { link, conversationId } = opts;
    this.outbox = new Outbox({
      send: (clientId, body) =>
        link.request("message:send", conversationId ? { conversationId, clientId, body } : { clientId, body }),
      isConnected: () => link.status === "connected",
      onAcked: (message) => this.receive(message),
      onChange: () => this.#changed(),
    });
  }

  get conversation(): Conversation | null {
    return this.#conversation;
  }

  /** Subscribes to the link and catches up if already connected. */
  start(): void {
    const { link } = this.#opts;
    this.#unsubscribe.push(
      link.on("message:new", (m) => this.#mine(m.conversationId) && this.receive(m)),
      link.on("conversation:updated", (c) => this.#mine(c.id) && this.update(c)),
      link.onStatus((s) => this.#onStatus(s)),
    );
    if (link.status === "connected") this.#onStatus("connected");
  }

  stop(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    clearTimeout(this.#lagTimer);
    this.outbox.dispose();
  }

  /** Sends a message; returns its clientId. */
  send(body: string): string {
    return this.outbox.enqueue(body).clientId;
  }

  retry(clientId: string): void {
    this.outbox.retry(clientId);
  }

  /** Merges one stored message; a seq past a hole makes us fetch the hole. */
  receive(message: Message): void {
    if (this.log.add(message)) {
      this.outbox.settle(message);
      this.outbox.prune((id) => this.log.hasClientId(id));
      if (this.#conversation && message.seq > this.#conversation.lastSeq) {
        this.#conversation = { ...this.#conversation, lastSeq: message.seq, preview: message.body };
      }
      this.#changed();
    }
    if (this.log.hasGap && !this.#quiet) void this.sync();
  }

  /** A newer state of the conversation; if it names a seq we lack, fetch it soon. */
  update(conversation: Conversation): void {
    const current = this.#conversation;
    if (current && current.updatedAt > conversation.updatedAt) return;
    this.#conversation = conversation;
    this.#changed();
    if (conversation.lastSeq > this.log.contiguous && this.#loaded) {
      // The matching message:new is usually already on its way; only fetch if it is not.
      clearTimeout(this.#lagTimer);
      this.#lagTimer = setTimeout(() => {
        if (conversation.lastSeq > this.log.contiguous) void this.sync();
      }, this.#opts.lagCheckMs ?? 400);
    }
  }

  /** Fetches everything after the highest contiguous seq; concurrent calls coalesce. */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#syncAgain = true;
      return this.#syncing;
    }
    this.#syncing = this.#syncLoop().finally(() => {
      this.#syncing = null;
    });
    return this.#syncing;
  }

  snapshot(): FeedSnapshot {
    return { conversation: this.#conversation, lines: chatLines(this.log.list(), this.outbox.items, this.#opts.self), loaded: this.#loaded, error: this.#error };
  }

  async #syncLoop(): Promise<void> {
    const { link, conversationId } = this.#opts;
    do {
      this.#syncAgain = false;
      if (link.status !== "connected") return;
      const afterSeq = this.log.contiguous;
      let res;
      try {
        res = await link.request("history", conversationId ? { conversationId, afterSeq } : { afterSeq });
      } catch {
        return; // no answer: the next reconnect or message will try again
      }
      if (!res.ok) {
        this.#error = res.error;
        this.#changed();
        return;
      }
      this.#error = null;
      this.#loaded = true;
      this.#quiet = true;
      try {
        for (const m of res.messages) this.receive(m);
      } finally {
        this.#quiet = false;
      }
      this.update(res.conversation);
      const fullPage = res.messages.length >= LIMITS.historyPage;
      const progressed = this.log.contiguous > afterSeq;
      if (progressed && (fullPage || this.log.hasGap)) this.#syncAgain = true;
      this.#changed();
    } while (this.#syncAgain);
  }

  #onStatus(status: LinkStatus): void {
    if (status === "connected") {
      void this.sync();
      this.outbox.flush();
    } else {
      this.outbox.suspend();
    }
  }

  #mine(conversationId: string): boolean {
    const wanted = this.#opts.conversationId ?? this.#conversation?.id;
    return wanted === undefined || wanted === conversationId;
  }

  #changed(): void {
    if (this.#quiet) return;
    this.#opts.onChange(this.snapshot());
  }
}
