/**
 * The Redis store: all desk state in one Redis, shared by every instance.
 *
 * Keys (prefix `desk:` by default). Everything of one conversation carries the hash tag
 * `{<id>}`, so each per-conversation script touches one Cluster slot:
 *   conv:{id}            hash   the conversation record (`lastSeq` is the seq counter)
 *   conv:{id}:msgs       list   messages as JSON; seq n sits at index n-1
 *   conv:{id}:cids       hash   clientId → seq, for idempotent appends
 *   conv:{id}:cobrowse   hash   co-browse consent state
 * Indexes across conversations live in other slots, so they are written right after the
 * script and every listing re-checks each conversation's own record (see `Indexes`):
 *   queue (zset, score = created ms), status:assigned, status:closed,
 *   agent:<id>:open, agent:<id>:closed (sets)
 * Agents: agent:<id> (hash), agents (set of ids), agents:email (hash lower-cased email → id);
 * revoked sessions: session:revoked:<sid> with a PXAT expiry.
 * Presence: presence:{<person>} (zset socketId → expiry ms), presence:{<person>}:status,
 * presence:online (set of persons that may have sockets; the sweep walks it).
 */
import { createClient } from "redis";
import type { Conversation, ConversationStatus, Message, PresenceStatus } from "../../shared/protocol.js";
import type { ErrorCode } from "../../shared/errors.js";
import {
  preview,
  publicConversation,
  type AgentRecord,
  type AppendResult,
  type CobrowseRecord,
  type ConversationRecord,
  type NewMessage,
  type PersonKey,
  type Store,
  type StoreResult,
  type TransitionActor,
  type TransitionResult,
} from "./store.js";

export type RedisClient = ReturnType<typeof createClient>;


/** The slice of a pino-style logger the store uses. */
export interface StoreLog {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export type RedisStoreOptions = { prefix?: string } & (
  | {
      url: string;
      /** Told once per outage that Redis is unreachable, and when it is back. */
      log?: StoreLog;
      /** Called with every client error (dropped connection, each failed reconnect). */
      onError?: (err: Error) => void;
      /** Wait for the first connection before resolving (default true). When false, commands fail fast until Redis answers. */
      waitForConnection?: boolean;
    }
  | {
      /** An already connected client; the store will not close it. */
      client: RedisClient;
    }
);

import { APPEND, CLAIM, RELEASE, CLOSE, SET_ONLINE, PRESENCE_JOIN, PRESENCE_SWEEP, COBROWSE_CAS, type Script } from "./redis-scripts.js";
import { agentFields, fromRecord, pairs, toAgent, toRecord, type Hash } from "./redis-codec.js";

/** An index of conversation ids and the rule its members must satisfy. */
interface Index {
  key: string;
  sorted: boolean;
  holds: (c: Conversation) => boolean;
}

export class RedisStore implements Store {
  readonly kind = "redis" as const;

  constructor(
    readonly client: RedisClient,
    private readonly prefix = "desk:",
    private readonly ownsClient = false,
  ) {}

  /** Told when an index update after a transition failed (the listing repairs what it can). */
  onIndexError?: (err: unknown, conversationId: string) => void;

  // ----- keys -----
  private conv = (id: string) => `${this.prefix}conv:{${id}}`;
  private msgs = (id: string) => `${this.conv(id)}:msgs`;
  private cids = (id: string) => `${this.conv(id)}:cids`;
  private cobrowseKey = (id: string) => `${this.conv(id)}:cobrowse`;
  private agentKey = (id: string) => `${this.prefix}agent:${id}`;
  private agentsKey = () => `${this.prefix}agents`;
  private emailKey = () => `${this.prefix}agents:email`;
  private revokedKey = (sid: string) => `${this.prefix}session:revoked:${sid}`;
  private socketsKey = (person: PersonKey) => `${this.prefix}presence:{${person}}`;
  private statusKey = (person: PersonKey) => `${this.socketsKey(person)}:status`;
  private onlineKey = () => `${this.prefix}presence:online`;

  private get queue(): Index {
    return { key: `${this.prefix}queue`, sorted: true, holds: (c) => c.status === "queued" };
  }
  private get assigned(): Index {
    return { key: `${this.prefix}status:assigned`, sorted: false, holds: (c) => c.status === "assigned" };
  }
  private get closed(): Index {
    return { key: `${this.prefix}status:closed`, sorted: false, holds: (c) => c.status === "closed" };
  }
  private agentOpen = (agentId: string): Index => ({
    key: `${this.prefix}agent:${agentId}:open`,
    sorted: false,
    holds: (c) => c.status === "assigned" && c.assignee?.id === agentId,
  });
  private agentClosed = (agentId: string): Index => ({
    key: `${this.prefix}agent:${agentId}:closed`,
    sorted: false,
    holds: (c) => c.status === "closed" && c.assignee?.id === agentId,
  });

  /** Every index a conversation in this state belongs to. */
  private indexesOf(c: Conversation): Index[] {
    const all = [this.queue, this.assigned, this.closed];
    if (c.assignee) all.push(this.agentOpen(c.assignee.id), this.agentClosed(c.assignee.id));
    return all.filter((i) => i.holds(c));
  }

  // ----- commands -----
  private async run(s: Script, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await this.client.evalSha(s.sha, { keys, arguments: args });
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
      return this.client.eval(s.source, { keys, arguments: args });
    }
  }

  private async hash(key: string): Promise<Hash> {
    return (await this.client.hGetAll(key)) as unknown as Hash;
  }

  private async addTo(index: Index, c: Conversation): Promise<void> {
    if (index.sorted) await this.client.zAdd(index.key, { score: Date.parse(c.createdAt) || 0, value: c.id });
    else await this.client.sAdd(index.key, c.id);
  }

  private async removeFrom(index: Index, id: string): Promise<void> {
    if (index.sorted) await this.client.zRem(index.key, id);
    else await this.client.sRem(index.key, id);
  }

  /**
   * Moves a conversation between indexes after its own record changed: removes it from
   * where it no longer belongs, then re-reads the record and adds it where it belongs now.
   * Two transitions racing on two instances (a claim and a release) can interleave their
   * index updates, but every removal is followed by an add from a fresher read, so an
   * entry is never lost; a stale extra entry is dropped by the next listing that meets it.
   */
  private async reindex(previous: Conversation | null, current: Conversation): Promise<void> {
    const now = this.indexesOf(current);
    const stale = previous ? this.indexesOf(previous).filter((i) => !now.some((n) => n.key === i.key)) : [];
    await Promise.all(stale.map((i) => this.removeFrom(i, current.id)));
    const fresh = stale.length > 0 ? ((await this.getConversation(current.id)) ?? current) : current;
    await Promise.all(this.indexesOf(fresh).map((i) => this.addTo(i, fresh)));
  }

  /**
   * Drops an index entry its record disagrees with, then re-reads the record and adds it
   * to every index it belongs to: back to this one if a concurrent writer made the entry
   * true meanwhile (writers update the record first and the indexes second, so this order
   * never loses an entry), and to the ones a writer that died after its script never
   * reached.
   */
  private async repair(index: Index, id: string): Promise<void> {
    try {
      await this.removeFrom(index, id);
      const again = await this.getConversation(id);
      if (again) await Promise.all(this.indexesOf(again).map((i) => this.addTo(i, again)));
    } catch {
      // best effort: the next listing tries again
    }
  }

  /** The members of `indexes` whose own record agrees; repairs the others. */
  private async listFrom(indexes: Index[]): Promise<Conversation[]> {
    const members = await Promise.all(
      indexes.map(async (i) => ({ index: i, ids: i.sorted ? await this.client.zRange(i.key, 0, -1) : await this.client.sMembers(i.key) })),
    );
    const ids = [...new Set(members.flatMap((m) => m.ids))];
    const records = new Map<string, ConversationRecord | null>();
    await Promise.all(ids.map(async (id) => records.set(id, await this.getConversation(id))));
    const repairs: Promise<void>[] = [];
    for (const { index, ids: memberIds } of members)
      for (const id of memberIds) {
        const record = records.get(id);
        if (!record || !index.holds(record)) repairs.push(this.repair(index, id));
      }
    await Promise.all(repairs);
    const result = new Map<string, Conversation>();
    for (const { index, ids: memberIds } of members)
      for (const id of memberIds) {
        const record = records.get(id);
        if (record && index.holds(record)) result.set(id, publicConversation(record));
      }
    return [...result.values()];
  }

  // ----- agents -----
  async createAgent(agent: AgentRecord): Promise<StoreResult<{ agent: AgentRecord }>> {
    const stored: AgentRecord = { ...agent, email: agent.email.toLowerCase() };
    // Claiming the email first makes the check-and-create atomic.
    if (!(await this.client.hSetNX(this.emailKey(), stored.email, stored.id))) return { ok: false, code: "conflict" };
    await this.client.hSet(this.agentKey(stored.id), agentFields(stored));
    await this.client.sAdd(this.agentsKey(), stored.id);
    return { ok: true, agent: stored };
  }

  async upsertAgent(agent: AgentRecord): Promise<AgentRecord> {
    const email = agent.email.toLowerCase();
    const existingId = await this.client.hGet(this.emailKey(), email);
    if (!existingId) {
      const created = await this.createAgent(agent);
      return created.ok ? created.agent : this.upsertAgent(agent); // lost a race: now it exists
    }
    const existing = await this.getAgent(existingId);
    const merged: AgentRecord = existing
      ? {
          ...existing,
          name: agent.name,
          role: agent.role,
          passwordHash: agent.passwordHash,
          disabled: false,
          ...(agent.sessionsValidAfter !== undefined && { sessionsValidAfter: agent.sessionsValidAfter }),
        }
      : { ...agent, id: existingId, email, disabled: false }; // heal an index entry left without its record
    await this.client.hSet(this.agentKey(existingId), agentFields(merged));
    await this.client.sAdd(this.agentsKey(), existingId);
    return merged;
  }

  async updateAgent(id: string, patch: Partial<Pick<AgentRecord, "name" | "passwordHash" | "disabled" | "role" | "sessionsValidAfter">>) {
    const agent = await this.getAgent(id);
    if (!agent) return null;
    const fields = agentFields(patch);
    if (Object.keys(fields).length > 0) await this.client.hSet(this.agentKey(id), fields);
    return { ...agent, ...patch };
  }

  async getAgent(id: string) {
    return toAgent(await this.hash(this.agentKey(id)));
  }

  async getAgentByEmail(email: string) {
    const id = await this.client.hGet(this.emailKey(), email.toLowerCase());
    return id ? this.getAgent(id) : null;
  }

  async listAgents() {
    const ids = await this.client.sMembers(this.agentsKey());
    const agents = await Promise.all(ids.map((id) => this.getAgent(id)));
    return agents.filter((a): a is AgentRecord => a !== null).sort((a, b) => a.name.localeCompare(b.name));
  }

  async revokeSession(sessionId: string, untilMs: number) {
    if (untilMs <= Date.now()) return;
    await this.client.set(this.revokedKey(sessionId), "1", { expiration: { type: "PXAT", value: Math.ceil(untilMs) } });
  }

  async isSessionRevoked(sessionId: string) {
    return (await this.client.exists(this.revokedKey(sessionId))) === 1;
  }

  // ----- conversations -----
  async createConversation(conversation: ConversationRecord, first: NewMessage) {
    const message: Message = { ...first, conversationId: conversation.id, seq: 1 };
    const record: ConversationRecord = { ...conversation, lastSeq: 1, preview: preview(first.body) };
    const id = conversation.id;
    const tx = this.client.multi().del([this.conv(id), this.msgs(id), this.cids(id)]).hSet(this.conv(id), fromRecord(record));
    tx.rPush(this.msgs(id), JSON.stringify(message));
    if (message.clientId) tx.hSet(this.cids(id), message.clientId, "1");
    await tx.exec();
    const view = publicConversation(record);
    await this.reindex(null, view);
    return { conversation: view, message };
  }

  async getConversation(id: string) {
    const h = await this.hash(this.conv(id));
    return h.id ? toRecord(h) : null;
  }

  async appendMessage(conversationId: string, input: NewMessage, rule: { assigneeId?: string }): Promise<AppendResult> {
    const { seq: _ignored, ...rest } = { ...input, conversationId } as NewMessage & { conversationId: string; seq?: number };
    const tail = JSON.stringify(rest).slice(1);
    const reply = (await this.run(
      APPEND,
      [this.conv(conversationId), this.msgs(conversationId), this.cids(conversationId)],
      [input.clientId ?? "", tail, preview(input.body), input.createdAt, rule.assigneeId !== undefined ? "1" : "0", rule.assigneeId ?? ""],
    )) as unknown[];
    if (reply[0] !== "ok") return { ok: false, code: reply[0] as ErrorCode };
    return {
      ok: true,
      message: JSON.parse(reply[1] as string) as Message,
      duplicate: reply[2] === 1,
      conversation: publicConversation(toRecord(pairs(reply[3]))),
    };
  }

  private async transition(s: Script, id: string, args: string[]): Promise<TransitionResult> {
    const reply = (await this.run(s, [this.conv(id)], args)) as unknown[];
    if (reply[0] !== "ok") return { ok: false, code: reply[0] as ErrorCode };
    const previous = publicConversation(toRecord(pairs(reply[1])));
    const conversation = publicConversation(toRecord(pairs(reply[2])));
    // The transition happened whatever comes next: an index left behind (Redis gone
    // between the two commands) is healed by the next listing that meets it.
    await this.reindex(previous, conversation).catch((err: unknown) => this.onIndexError?.(err, id));
    return { ok: true, conversation, previous };
  }

  private actorArgs(actor: TransitionActor, now: string): string[] {
    return actor.role === "agent" ? ["agent", actor.agentId, actor.isAdmin ? "1" : "0", now] : ["customer", "", "0", now];
  }

  claim(conversationId: string, assignee: { id: string; name: string }, now: string) {
    return this.transition(CLAIM, conversationId, [assignee.id, assignee.name, now]);
  }

  release(conversationId: string, actor: TransitionActor, now: string) {
    return this.transition(RELEASE, conversationId, this.actorArgs(actor, now));
  }

  close(conversationId: string, actor: TransitionActor, now: string) {
    return this.transition(CLOSE, conversationId, this.actorArgs(actor, now));
  }

  async listMessages(conversationId: string, afterSeq: number, limit: number) {
    if (limit <= 0) return [];
    const start = Math.max(0, Math.floor(afterSeq));
    const raw = await this.client.lRange(this.msgs(conversationId), start, start + Math.floor(limit) - 1);
    return raw.map((m) => JSON.parse(m) as Message);
  }

  async listQueue() {
    const queued = await this.listFrom([this.queue]);
    return queued.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async listConversations(filter: { assigneeId?: string; status?: ConversationStatus }) {
    const { assigneeId, status } = filter;
    const byStatus: Record<ConversationStatus, Index[]> = assigneeId
      ? { queued: [], assigned: [this.agentOpen(assigneeId)], closed: [this.agentClosed(assigneeId)] }
      : { queued: [this.queue], assigned: [this.assigned], closed: [this.closed] };
    const indexes = status ? byStatus[status] : Object.values(byStatus).flat();
    const found = await this.listFrom(indexes);
    return found.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async setCustomerOnline(conversationId: string, online: boolean) {
    const reply = (await this.run(SET_ONLINE, [this.conv(conversationId)], [online ? "1" : "0"])) as unknown[];
    return reply[0] === "ok" ? publicConversation(toRecord(pairs(reply[1]))) : null;
  }

  // ----- presence -----
  async presenceJoin(person: PersonKey, socketId: string, expiresAt: number) {
    const wasOffline = (await this.run(PRESENCE_JOIN, [this.socketsKey(person)], [String(expiresAt), socketId])) === 1;
    await this.client.sAdd(this.onlineKey(), person);
    return wasOffline;
  }

  async presenceTouch(entries: { person: PersonKey; socketId: string }[], expiresAt: number) {
    // One pipeline for the whole heartbeat. A connected socket that was swept is put back,
    // and SADD says whether its person had gone offline.
    if (entries.length === 0) return [];
    const pipeline = this.client.multi();
    for (const e of entries) {
      pipeline.addCommand(["ZADD", this.socketsKey(e.person), String(expiresAt), e.socketId]);
      pipeline.addCommand(["SADD", this.onlineKey(), e.person]);
    }
    const replies = (await pipeline.execAsPipeline()) as unknown[];
    const revived = new Set<PersonKey>();
    entries.forEach((e, i) => {
      if (Number(replies[2 * i + 1]) === 1) revived.add(e.person);
    });
    return [...revived];
  }

  async presenceLeave(person: PersonKey, socketId: string, expiresAt: number) {
    await this.client.sendCommand(["ZADD", this.socketsKey(person), "XX", "LT", String(expiresAt), socketId]);
  }

  async presenceSweep(now: number, opts: { exclusiveForMs?: number } = {}) {
    if (opts.exclusiveForMs) {
      const px = String(Math.max(1, Math.round(opts.exclusiveForMs)));
      const turn = await this.client.sendCommand(["SET", `${this.onlineKey()}:sweeping`, "1", "NX", "PX", px]);
      if (turn === null) return [];
    }
    const persons = await this.client.sMembers(this.onlineKey());
    const gone: PersonKey[] = [];
    await Promise.all(
      persons.map(async (person) => {
        const outcome = await this.run(PRESENCE_SWEEP, [this.socketsKey(person)], [String(now)]);
        if (outcome === -1) return;
        if (outcome === 1) gone.push(person);
        // Same order as `repair`: drop, then put back if a join raced in.
        await this.client.sRem(this.onlineKey(), person);
        if ((await this.client.exists(this.socketsKey(person))) === 1) await this.client.sAdd(this.onlineKey(), person);
      }),
    );
    return gone;
  }

  async isOnline(person: PersonKey) {
    return (await this.client.exists(this.socketsKey(person))) === 1;
  }

  async setPresenceStatus(person: PersonKey, status: "online" | "away") {
    await this.client.set(this.statusKey(person), status);
  }

  async getPresenceStatus(person: PersonKey): Promise<PresenceStatus> {
    const [online, status] = await Promise.all([this.isOnline(person), this.client.get(this.statusKey(person))]);
    if (!online) return "offline";
    return status === "away" ? "away" : "online";
  }

  // ----- co-browse consent -----
  async getCobrowse(conversationId: string) {
    const json = await this.client.hGet(this.cobrowseKey(conversationId), "json");
    return json ? (JSON.parse(json) as CobrowseRecord) : null;
  }

  async setCobrowse(conversationId: string, next: CobrowseRecord, expect: (CobrowseRecord["status"] | null)[]) {
    const accepted = expect.map((s) => s ?? "");
    const reply = await this.run(COBROWSE_CAS, [this.cobrowseKey(conversationId)], [next.status, JSON.stringify(next), ...accepted]);
    return reply === 1;
  }

  // ----- lifecycle -----
  async ping() {
    await this.client.ping();
  }

  /** Quits the client when the store created it; a client passed in stays open. */
  async disconnect(): Promise<void> {
    if (!this.ownsClient || !this.client.isOpen) return;
    if (this.client.isReady) await this.client.close();
    else this.client.destroy();
  }
}

/**
 * Connects a Redis store. With `url` it owns its client: commands fail fast while the
 * connection is down (no offline queue), the client reconnects forever with a backoff
 * capped at 1 s, and connection errors are logged instead of crashing the process.
 */
export async function createRedisStore(opts: RedisStoreOptions): Promise<RedisStore> {
  const prefix = opts.prefix ?? "desk:";
  if ("client" in opts) return new RedisStore(opts.client, prefix, false);
  const client = createClient({
    url: opts.url,
    disableOfflineQueue: true,
    // No per-command timer on the hot path: a dropped connection already fails every
    // pending command at once (no offline queue), and /readyz pings with its own timeout.
    commandOptions: { timeout: 0 },
    socket: { connectTimeout: 5_000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000) },
  });
  // Without an `error` listener a dropped connection would crash the process.
  let down = false;
  const onError = (err: Error) => {
    opts.onError?.(err);
    if (!down) opts.log?.warn({ err: err.message }, "redis unreachable: commands fail until it is back");
    down = true;
  };
  client.on("error", onError);
  client.on("ready", () => {
    if (down) opts.log?.info({}, "redis reachable again");
    down = false;
  });
  const connecting = client.connect();
  if (opts.waitForConnection === false) connecting.catch(onError);
  else await connecting;
  const store = new RedisStore(client as RedisClient, prefix, true);
  store.onIndexError = (err, conversationId) =>
    opts.log?.warn({ err: err instanceof Error ? err.message : String(err), conversationId }, "index update after a transition failed");
  return store;
}
