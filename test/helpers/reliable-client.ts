/**
 * The browser client's delivery layer (client/src/delivery: ConversationFeed, Outbox,
 * SeqLog) driven from Node over real socket.io-client connections, for fault tests.
 *
 * The one piece that is test-only is `FailoverLink`: a `DeskLink` that knows every
 * instance's URL and, when its connection drops or a handshake fails, opens a new one to
 * the next URL (what a load balancer does for a browser). Everything above it — retries
 * with the same clientId, `history` from the highest contiguous seq on every (re)connect,
 * gap fetches, dedupe by seq — is the client's own code.
 */
import { io, type Socket } from "socket.io-client";
import { ConversationFeed, type FeedSnapshot } from "../../client/src/delivery/feed.js";
import {
  AckTimeoutError,
  type DeskLink,
  type LinkStatus,
  type PayloadOf,
  type PushEvent,
  type RequestEvent,
  type ResultOf,
} from "../../client/src/delivery/link.js";
import { emitWithAck, type Credentials } from "../../client/src/socket.js";
import type { Ack, ClientToServerEvents, Message, ServerToClientEvents } from "../../shared/protocol.js";

type RawSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
type AnyListener = (...args: never[]) => void;

export interface FailoverLinkOptions {
  /** Instances to use, the first one first; on failure the next one (round robin). */
  urls: string[];
  auth: Credentials;
  /** How long a request waits for its acknowledgement. Default 3 000 ms. */
  ackTimeoutMs?: number;
}

/** One request's outcome (`no_answer` when none came in time), for latency figures. */
export interface Answer {
  event: RequestEvent;
  ok: boolean;
  code?: string;
  /** When it was sent (`performance.now()`). */
  at: number;
  ms: number;
}

/** A `DeskLink` over one socket at a time, moving to the next URL whenever it fails. */
export class FailoverLink implements DeskLink {
  /** Every message the desk acknowledged over this link, by clientId. */
  readonly acked = new Map<string, Message>();
  /** Every request's outcome. */
  readonly answers: Answer[] = [];
  /** For each lost connection: ms from the loss to the next successful connect. */
  readonly reconnectMs: number[] = [];
  #opts: Required<FailoverLinkOptions>;
  #status: LinkStatus = "connecting";
  #socket: RawSocket | null = null;
  #next = 0;
  #failures = 0;
  #lostAt: number | null = null;
  #timer?: ReturnType<typeof setTimeout>;
  #offline = false;
  #current = "";
  #listeners = new Map<PushEvent, Set<AnyListener>>();
  #watchers = new Set<(s: LinkStatus) => void>();

  constructor(opts: FailoverLinkOptions) {
    this.#opts = { ackTimeoutMs: 3_000, ...opts };
  }

  get status(): LinkStatus {
    return this.#status;
  }

  /** The URL of the instance currently connected, if any. */
  get url(): string | null {
    return this.#status === "connected" ? this.#current : null;
  }

  connect(): void {
    // after `goOffline()`, reconnect time counts from when we try again
    if (this.#offline && this.#lostAt !== null) this.#lostAt = performance.now();
    this.#offline = false;
    if (!this.#socket && this.#timer === undefined) this.#open();
  }

  /** Drops the connection as a lost network would, and stays away until `connect()`. */
  goOffline(): void {
    this.#offline = true;
    this.#lostAt ??= performance.now();
    this.#drop();
    this.#set("reconnecting");
  }

  close(): void {
    this.#offline = true;
    this.#drop();
    this.#set("closed");
    this.#watchers.clear();
    this.#listeners.clear();
  }

  async request<E extends RequestEvent>(event: E, payload: PayloadOf<E>): Promise<Ack<ResultOf<E>>> {
    const socket = this.#socket;
    if (!socket?.connected || this.#status !== "connected") throw new AckTimeoutError(event, 0);
    const started = performance.now();
    let res: Ack<ResultOf<E>>;
    const cid = (payload as { clientId?: string }).clientId;
    try {
      res = await emitWithAck(socket, event, payload, this.#opts.ackTimeoutMs);
    } catch (err) {
      this.answers.push({ event, ok: false, code: "no_answer", at: started, ms: performance.now() - started });
      throw err;
    }
    const ms = performance.now() - started;
    this.answers.push(res.ok ? { event, ok: true, at: started, ms } : { event, ok: false, code: res.error.code, at: started, ms });
    if (event === "message:send" && res.ok) {
      const message = (res as unknown as { message: Message }).message;
      if (message.clientId) this.acked.set(message.clientId, message);
    }
    return res;
  }

  on<E extends PushEvent>(event: E, listener: ServerToClientEvents[E]): () => void {
    const set = this.#listeners.get(event) ?? new Set<AnyListener>();
    set.add(listener as AnyListener);
    this.#listeners.set(event, set);
    (this.#socket as unknown as { on(e: string, l: AnyListener): void } | null)?.on(event, listener as AnyListener);
    return () => {
      set.delete(listener as AnyListener);
      (this.#socket as unknown as { off(e: string, l: AnyListener): void } | null)?.off(event, listener as AnyListener);
    };
  }

  onStatus(listener: (status: LinkStatus) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #set(next: LinkStatus): void {
    if (next === this.#status) return;
    this.#status = next;
    for (const w of [...this.#watchers]) w(next);
  }

  #open(): void {
    this.#timer = undefined;
    const { urls, auth } = this.#opts;
    const url = urls[this.#next++ % urls.length]!;
    this.#current = url;
    const socket: RawSocket = io(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true, autoConnect: false });
    const raw = socket as unknown as { on(e: string, l: AnyListener): void };
    for (const [event, set] of this.#listeners) for (const l of set) raw.on(event, l);
    socket.on("connect", () => {
      if (socket !== this.#socket) return;
      this.#failures = 0;
      if (this.#lostAt !== null) this.reconnectMs.push(performance.now() - this.#lostAt);
      this.#lostAt = null;
      this.#set("connected");
    });
    socket.on("disconnect", () => {
      if (socket !== this.#socket) return;
      this.#lostAt ??= performance.now();
      this.#set("reconnecting");
      this.#failover();
    });
    socket.on("connect_error", (err) => {
      if (socket !== this.#socket) return;
      if (err.message === "unauthorized") {
        this.#drop();
        this.#set("unauthorized");
        return;
      }
      this.#failover();
    });
    this.#socket = socket;
    socket.connect();
  }

  /** Forgets the current socket and tries the next URL: at once the first time, then with a capped backoff. */
  #failover(): void {
    this.#drop();
    if (this.#offline) return;
    const delay = this.#failures === 0 ? 0 : Math.min(50 * 2 ** this.#failures, 1_000);
    this.#failures++;
    this.#timer = setTimeout(() => this.#open(), delay);
  }

  #drop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const socket = this.#socket;
    this.#socket = null;
    if (!socket) return;
    socket.removeAllListeners();
    socket.disconnect();
  }
}

export interface ReliableChatOptions extends FailoverLinkOptions {
  /** The conversation an agent watches; `null` for a customer (its socket is bound to one). */
  conversationId: string | null;
  self: { role: "customer" | "agent"; id?: string; name: string };
}

/** A conversation as the real client shows it, over a `FailoverLink`. */
export class ReliableChat {
  readonly link: FailoverLink;
  readonly feed: ConversationFeed;
  /** Every snapshot the feed reported, for "was anything ever shown twice" checks. */
  readonly snapshots: FeedSnapshot[] = [];
  /** The clientId of every message sent, in order. */
  readonly sent: string[] = [];
  #keepSnapshots = false;
  #waiters = new Set<() => void>();

  constructor(opts: ReliableChatOptions & { link?: FailoverLink; keepSnapshots?: boolean }) {
    this.link = opts.link ?? new FailoverLink(opts);
    this.#keepSnapshots = opts.keepSnapshots ?? false;
    this.feed = new ConversationFeed({
      link: this.link,
      conversationId: opts.conversationId,
      self: opts.self,
      lagCheckMs: 200,
      onChange: (s) => {
        if (this.#keepSnapshots) this.snapshots.push(s);
        for (const w of [...this.#waiters]) w();
      },
    });
  }

  /** Connects and resolves once the first `history` answered. */
  async start(timeoutMs = 10_000): Promise<void> {
    this.feed.start();
    this.link.connect();
    await this.until(() => this.feed.snapshot().loaded, timeoutMs, "first history");
  }

  /** The stored messages the feed holds, in seq order. */
  messages(): readonly Message[] {
    return this.feed.log.list();
  }

  /**
   * Sends like a user: the outbox retries on its own; when it gives up on a passing
   * failure (`unavailable`, no answer) the user presses Retry. Resolves with the stored
   * message once the feed holds it.
   */
  send(body: string, timeoutMs = 30_000): Promise<Message> {
    const clientId = this.feed.send(body);
    this.sent.push(clientId);
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    return this.until(
      () => {
        if (this.feed.log.hasClientId(clientId)) return true;
        const pending = this.feed.outbox.items.find((o) => o.clientId === clientId);
        if (pending?.state === "failed" && retryTimer === undefined) {
          if (!["unavailable", "internal", "rate_limited"].includes(pending.error?.code ?? "")) {
            throw new Error(`send refused: ${JSON.stringify(pending.error)}`);
          }
          retryTimer = setTimeout(() => {
            retryTimer = undefined;
            this.feed.retry(clientId);
          }, 300);
        }
        return false;
      },
      timeoutMs,
      `message ${clientId}`,
    ).then(() => {
      clearTimeout(retryTimer);
      return this.messages().find((m) => m.clientId === clientId)!;
    });
  }

  /** Resolves when `done()` holds, checked on every feed change and every 100 ms; rejects after `timeoutMs`. */
  until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (err?: unknown) => {
        clearTimeout(timer);
        clearInterval(tick);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      const check = () => {
        try {
          if (done()) finish();
        } catch (err) {
          finish(err);
        }
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      // status changes and outbox timers do not always report a change: look now and then too
      const tick = setInterval(check, 100);
      this.#waiters.add(check);
      check();
    });
  }

  close(): void {
    this.feed.stop();
    this.link.close();
  }
}
