/** The in-process store: one instance, nothing to install. Same contract as Redis. */
import type { Conversation, Message, PresenceStatus } from "../../shared/protocol.js";
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

interface ConversationSlot {
  record: ConversationRecord;
  messages: Message[];
  byClientId: Map<string, Message>;
}

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryStore implements Store {
  readonly kind = "memory" as const;
  private agents = new Map<string, AgentRecord>();
  private agentByEmail = new Map<string, string>();
  private revoked = new Map<string, number>();
  private conversations = new Map<string, ConversationSlot>();
  private sockets = new Map<PersonKey, Map<string, number>>();
  private online = new Set<PersonKey>();
  private statuses = new Map<PersonKey, "online" | "away">();
  private cobrowse = new Map<string, CobrowseRecord>();
  /** Indexes, so listings do not scan every conversation ever started. */
  private queued = new Set<string>();
  private byAssignee = new Map<string, Set<string>>();

  async createAgent(agent: AgentRecord): Promise<StoreResult<{ agent: AgentRecord }>> {
    const email = agent.email.toLowerCase();
    if (this.agentByEmail.has(email)) return { ok: false, code: "conflict" };
    const stored = { ...clone(agent), email };
    this.agents.set(agent.id, stored);
    this.agentByEmail.set(email, agent.id);
    return { ok: true, agent: clone(stored) };
  }

  async upsertAgent(agent: AgentRecord): Promise<AgentRecord> {
    const existingId = this.agentByEmail.get(agent.email.toLowerCase());
    const existing = existingId ? this.agents.get(existingId) : undefined;
    if (!existing) {
      const created = await this.createAgent(agent);
      return created.ok ? created.agent : agent;
    }
    Object.assign(existing, { name: agent.name, role: agent.role, passwordHash: agent.passwordHash, disabled: false });
    if (agent.sessionsValidAfter !== undefined) existing.sessionsValidAfter = agent.sessionsValidAfter;
    return clone(existing);
  }

  async updateAgent(id: string, patch: Partial<Pick<AgentRecord, "name" | "passwordHash" | "disabled" | "role" | "sessionsValidAfter">>) {
    const agent = this.agents.get(id);
    if (!agent) return null;
    Object.assign(agent, patch);
    return clone(agent);
  }

  async getAgent(id: string) {
    const a = this.agents.get(id);
    return a ? clone(a) : null;
  }

  async getAgentByEmail(email: string) {
    const id = this.agentByEmail.get(email.toLowerCase());
    return id ? this.getAgent(id) : null;
  }

  async listAgents() {
    return [...this.agents.values()].map(clone).sort((a, b) => a.name.localeCompare(b.name));
  }

  async revokeSession(sessionId: string, untilMs: number) {
    this.revoked.set(sessionId, untilMs);
  }

  async isSessionRevoked(sessionId: string) {
    const until = this.revoked.get(sessionId);
    if (until === undefined) return false;
    if (until < Date.now()) {
      this.revoked.delete(sessionId);
      return false;
    }
    return true;
  }

  async createConversation(conversation: ConversationRecord, first: NewMessage) {
    const message: Message = { ...clone(first), conversationId: conversation.id, seq: 1 };
    const record: ConversationRecord = { ...clone(conversation), lastSeq: 1, preview: preview(first.body) };
    const slot: ConversationSlot = { record, messages: [message], byClientId: new Map() };
    if (message.clientId) slot.byClientId.set(message.clientId, message);
    this.conversations.set(conversation.id, slot);
    this.reindex(record);
    return { conversation: publicConversation(clone(record)), message: clone(message) };
  }

  async getConversation(id: string) {
    const slot = this.conversations.get(id);
    return slot ? clone(slot.record) : null;
  }

  async appendMessage(conversationId: string, input: NewMessage, rule: { assigneeId?: string }): Promise<AppendResult> {
    const slot = this.conversations.get(conversationId);
    if (!slot) return { ok: false, code: "not_found" };
    const { record } = slot;
    if (input.clientId) {
      const existing = slot.byClientId.get(input.clientId);
      if (existing) return { ok: true, message: clone(existing), conversation: this.view(slot), duplicate: true };
    }
    if (record.status === "closed") return { ok: false, code: "conversation_closed" };
    if (rule.assigneeId !== undefined && record.assignee?.id !== rule.assigneeId) return { ok: false, code: "forbidden" };
    const message: Message = { ...clone(input), conversationId, seq: record.lastSeq + 1 };
    slot.messages.push(message);
    if (message.clientId) slot.byClientId.set(message.clientId, message);
    record.lastSeq = message.seq;
    record.preview = preview(message.body);
    record.updatedAt = message.createdAt;
    return { ok: true, message: clone(message), conversation: this.view(slot), duplicate: false };
  }

  async claim(conversationId: string, assignee: { id: string; name: string }, now: string): Promise<TransitionResult> {
    return this.transition(conversationId, (r) => {
      if (r.status === "closed") return "conversation_closed";
      if (r.status === "assigned") return "already_claimed";
      r.status = "assigned";
      r.assignee = { id: assignee.id, name: assignee.name };
      r.updatedAt = now;
      return null;
    });
  }

  async release(conversationId: string, actor: TransitionActor, now: string): Promise<TransitionResult> {
    return this.transition(conversationId, (r) => {
      if (r.status === "closed") return "conversation_closed";
      if (actor.role !== "agent" || r.status !== "assigned") return "forbidden";
      if (!actor.isAdmin && r.assignee?.id !== actor.agentId) return "forbidden";
      r.status = "queued";
      r.assignee = null;
      r.updatedAt = now;
      return null;
    });
  }

  async close(conversationId: string, actor: TransitionActor, now: string): Promise<TransitionResult> {
    return this.transition(conversationId, (r) => {
      if (r.status === "closed") return "conversation_closed";
      if (actor.role === "agent" && !actor.isAdmin && r.assignee?.id !== actor.agentId) return "forbidden";
      r.status = "closed";
      r.updatedAt = now;
      r.closedAt = now;
      return null;
    });
  }

  private transition(id: string, apply: (r: ConversationRecord) => ErrorCode | null): TransitionResult {
    const slot = this.conversations.get(id);
    if (!slot) return { ok: false, code: "not_found" };
    const previous = this.view(slot);
    const code = apply(slot.record);
    if (code) return { ok: false, code };
    if (previous.assignee) this.byAssignee.get(previous.assignee.id)?.delete(id);
    this.reindex(slot.record);
    return { ok: true, conversation: this.view(slot), previous };
  }

  private reindex(r: ConversationRecord): void {
    if (r.status === "queued") this.queued.add(r.id);
    else this.queued.delete(r.id);
    if (r.assignee) {
      let set = this.byAssignee.get(r.assignee.id);
      if (!set) this.byAssignee.set(r.assignee.id, (set = new Set()));
      set.add(r.id);
    }
  }

  private view(slot: ConversationSlot): Conversation {
    return publicConversation(clone(slot.record));
  }

  async listMessages(conversationId: string, afterSeq: number, limit: number) {
    const slot = this.conversations.get(conversationId);
    if (!slot) return [];
    // seq n sits at index n-1: no gaps by construction.
    return slot.messages.slice(afterSeq, afterSeq + limit).map(clone);
  }

  async listQueue() {
    return [...this.queued]
      .map((id) => this.conversations.get(id)!)
      .map((s) => this.view(s))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async listConversations(filter: { assigneeId?: string; status?: Conversation["status"] }) {
    const slots = filter.assigneeId
      ? [...(this.byAssignee.get(filter.assigneeId) ?? [])].map((id) => this.conversations.get(id)!)
      : this.conversations.values();
    return [...slots]
      .filter((s) => (filter.status ? s.record.status === filter.status : true))
      .filter((s) => (filter.assigneeId ? s.record.assignee?.id === filter.assigneeId : true))
      .map((s) => this.view(s))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  }

  async setCustomerOnline(conversationId: string, online: boolean) {
    const slot = this.conversations.get(conversationId);
    if (!slot) return null;
    slot.record.customer.online = online;
    return this.view(slot);
  }

  async presenceJoin(person: PersonKey, socketId: string, expiresAt: number) {
    let sockets = this.sockets.get(person);
    if (!sockets) this.sockets.set(person, (sockets = new Map()));
    sockets.set(socketId, expiresAt);
    const wasOffline = !this.online.has(person);
    this.online.add(person);
    return wasOffline;
  }

  async presenceTouch(entries: { person: PersonKey; socketId: string }[], expiresAt: number) {
    const revived = new Set<PersonKey>();
    for (const { person, socketId } of entries) {
      let sockets = this.sockets.get(person);
      if (!sockets) this.sockets.set(person, (sockets = new Map()));
      sockets.set(socketId, expiresAt);
      if (!this.online.has(person)) revived.add(person);
      this.online.add(person);
    }
    return [...revived];
  }

  async presenceLeave(person: PersonKey, socketId: string, expiresAt: number) {
    const sockets = this.sockets.get(person);
    if (sockets?.has(socketId)) sockets.set(socketId, Math.min(sockets.get(socketId)!, expiresAt));
  }

  async presenceSweep(now: number) {
    const gone: PersonKey[] = [];
    for (const person of this.online) {
      const sockets = this.sockets.get(person);
      for (const [id, exp] of sockets ?? []) if (exp <= now) sockets!.delete(id);
      if (!sockets || sockets.size === 0) {
        this.online.delete(person);
        this.sockets.delete(person);
        gone.push(person);
      }
    }
    return gone;
  }

  async isOnline(person: PersonKey) {
    return this.online.has(person);
  }

  async setPresenceStatus(person: PersonKey, status: "online" | "away") {
    this.statuses.set(person, status);
  }

  async getPresenceStatus(person: PersonKey): Promise<PresenceStatus> {
    if (!this.online.has(person)) return "offline";
    return this.statuses.get(person) ?? "online";
  }

  async getCobrowse(conversationId: string) {
    const c = this.cobrowse.get(conversationId);
    return c ? clone(c) : null;
  }

  async setCobrowse(conversationId: string, next: CobrowseRecord, expect: (CobrowseRecord["status"] | null)[]) {
    const current = this.cobrowse.get(conversationId)?.status ?? null;
    if (!expect.includes(current)) return false;
    this.cobrowse.set(conversationId, clone(next));
    return true;
  }

  async ping() {}
  async disconnect() {}
}
