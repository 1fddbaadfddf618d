/**
 * The `Store` seam: every piece of desk state lives behind it. Two implementations
 * (memory, Redis) pass the same contract suite (`test/store.contract.ts`).
 *
 * Each per-conversation state change (claim, release, close, append) is ONE atomic
 * operation: in Redis a single Lua script over keys that share the conversation's hash
 * tag, never a read in Node followed by a write.
 */
import type {
  Agent,
  CobrowseState,
  Conversation,
  ConversationStatus,
  Message,
  PresenceStatus,
} from "../../shared/protocol.js";
import type { ErrorCode } from "../../shared/errors.js";

/** An agent as stored, with its password hash. */
export interface AgentRecord extends Agent {
  passwordHash: string;
  createdAt: string;
  /** Tokens issued before this (epoch ms) no longer count: a password change ends every session. */
  sessionsValidAfter?: number;
}

/** A conversation as stored: what clients see plus the hash of the customer token. */
export interface ConversationRecord extends Conversation {
  customerTokenHash: string;
}

/** A message before the store gives it its seq. */
export interface NewMessage {
  id: string;
  clientId?: string;
  author: Message["author"];
  body: string;
  createdAt: string;
}

/** Who may append: checked inside the same atomic step as the seq allocation. */
export interface AppendRule {
  /** When set, the conversation must be assigned to this agent (agent messages). */
  assigneeId?: string;
}

export type StoreResult<T> = ({ ok: true } & T) | { ok: false; code: ErrorCode };

export type AppendResult = StoreResult<{ message: Message; conversation: Conversation; duplicate: boolean }>;
export type TransitionResult = StoreResult<{ conversation: Conversation; previous: Conversation }>;

/** Who asks for a release or close; admins may act on conversations they do not hold. */
export type TransitionActor =
  | { role: "agent"; agentId: string; isAdmin: boolean }
  | { role: "customer" };

/** `agent:<id>` or `customer:<conversationId>`: one person, however many sockets. */
export type PersonKey = string;

export interface CobrowseRecord extends CobrowseState {
  /** The customer socket that allowed and alone may stream. */
  streamerSocketId?: string;
  /** The assignee who asked: only this agent's sockets receive the mirror. */
  agentId?: string;
  updatedAt: string;
}

export interface Store {
  readonly kind: "memory" | "redis";

  // ----- agents -----
  /** Creates an agent; `conflict` when the email is taken (emails compare lower-cased). */
  createAgent(agent: AgentRecord): Promise<StoreResult<{ agent: AgentRecord }>>;
  /** Creates the agent or, when the email exists, updates its name, role and password. */
  upsertAgent(agent: AgentRecord): Promise<AgentRecord>;
  updateAgent(id: string, patch: Partial<Pick<AgentRecord, "name" | "passwordHash" | "disabled" | "role" | "sessionsValidAfter">>): Promise<AgentRecord | null>;
  getAgent(id: string): Promise<AgentRecord | null>;
  getAgentByEmail(email: string): Promise<AgentRecord | null>;
  listAgents(): Promise<AgentRecord[]>;
  /** Marks a login session revoked until `untilMs` (epoch ms), when its token expires anyway. */
  revokeSession(sessionId: string, untilMs: number): Promise<void>;
  isSessionRevoked(sessionId: string): Promise<boolean>;

  // ----- conversations -----
  /** Stores a new queued conversation with its first message (seq 1) and queues it. */
  createConversation(conversation: ConversationRecord, first: NewMessage): Promise<{ conversation: Conversation; message: Message }>;
  getConversation(id: string): Promise<ConversationRecord | null>;
  /**
   * Atomically: return the message already stored under `(conversation, clientId)` if any
   * (`duplicate: true`); else check status and `rule`, allocate the next seq, store it.
   * Errors: `not_found`, `conversation_closed`, `forbidden` (rule failed).
   */
  appendMessage(conversationId: string, message: NewMessage, rule: AppendRule): Promise<AppendResult>;
  /** Atomically queued → assigned. Errors: `not_found`, `already_claimed`, `conversation_closed`. */
  claim(conversationId: string, assignee: { id: string; name: string }, now: string): Promise<TransitionResult>;
  /** Atomically assigned → queued, by the assignee or an admin. Errors: `not_found`, `forbidden`, `conversation_closed`. */
  release(conversationId: string, actor: TransitionActor, now: string): Promise<TransitionResult>;
  /** Atomically → closed, by the customer, the assignee or an admin. Errors: `not_found`, `forbidden`, `conversation_closed`. */
  close(conversationId: string, actor: TransitionActor, now: string): Promise<TransitionResult>;
  /** Messages with seq > afterSeq, oldest first, at most `limit`. */
  listMessages(conversationId: string, afterSeq: number, limit: number): Promise<Message[]>;
  /** Queued conversations, oldest first; never one whose own record is not `queued`. */
  listQueue(): Promise<Conversation[]>;
  /** Conversations by assignee and/or status, newest activity first. */
  listConversations(filter: { assigneeId?: string; status?: ConversationStatus }): Promise<Conversation[]>;
  setCustomerOnline(conversationId: string, online: boolean): Promise<Conversation | null>;

  // ----- presence -----
  /** Registers a socket of a person alive until `expiresAt` (epoch ms). True when the person was offline. */
  presenceJoin(person: PersonKey, socketId: string, expiresAt: number): Promise<boolean>;
  /**
   * Extends every listed socket's life (heartbeat of one instance). A socket that is still
   * connected but was swept (its heartbeats failed, e.g. while Redis was away) is put back;
   * returns the persons who were offline and are online again that way.
   */
  presenceTouch(entries: { person: PersonKey; socketId: string }[], expiresAt: number): Promise<PersonKey[]>;
  /** Lets a socket expire at `expiresAt` (a short grace for reloads) instead of at once. */
  presenceLeave(person: PersonKey, socketId: string, expiresAt: number): Promise<void>;
  /**
   * Drops expired sockets and returns the persons left with none. Each such person is
   * returned by exactly one call, whichever instance makes it. With `exclusiveForMs`,
   * a call returns [] at once when another call took the turn less than that long ago
   * (one instance sweeps per heartbeat; the others only refresh their own sockets).
   */
  presenceSweep(now: number, opts?: { exclusiveForMs?: number }): Promise<PersonKey[]>;
  isOnline(person: PersonKey): Promise<boolean>;
  setPresenceStatus(person: PersonKey, status: "online" | "away"): Promise<void>;
  getPresenceStatus(person: PersonKey): Promise<PresenceStatus>;

  // ----- co-browse consent -----
  getCobrowse(conversationId: string): Promise<CobrowseRecord | null>;
  /** Sets the state when the current status is one of `expect` (null = none); false otherwise. */
  setCobrowse(conversationId: string, next: CobrowseRecord, expect: (CobrowseRecord["status"] | null)[]): Promise<boolean>;

  // ----- lifecycle -----
  /** Resolves when the store answers; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the store's connections (named so it cannot be confused with closing a conversation). */
  disconnect(): Promise<void>;
}

/** Strips what only the store may see. */
export function publicConversation(c: ConversationRecord | Conversation): Conversation {
  const { customerTokenHash: _hidden, ...rest } = c as ConversationRecord;
  return rest;
}

export function publicAgent(a: AgentRecord): Agent {
  const { passwordHash: _hidden, createdAt: _c, sessionsValidAfter: _s, ...rest } = a;
  return rest;
}

export const PREVIEW_LENGTH = 140;
export const preview = (body: string) => body.slice(0, PREVIEW_LENGTH);

/**
 * True for errors that mean "the store cannot be reached right now" (Redis down or
 * reconnecting): requests answer `unavailable` at once instead of hanging.
 */
export function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (
    /^(ClientClosedError|ClientOfflineError|ConnectionTimeoutError|SocketClosedUnexpectedlyError|SocketTimeoutError|ReconnectStrategyError)$/.test(err.name) ||
    /ECONNREFUSED|ECONNRESET|EPIPE|The client is closed|client is offline|Connection timeout|Socket closed unexpectedly|LOADING/.test(err.message)
  );
}
