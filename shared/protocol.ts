/**
 * The wire protocol of livedesk: every payload's schema, the types derived from them,
 * and the Socket.IO event maps. Imported by the server, the client and the tests.
 */
import { z } from "zod";
import type { WireError } from "./errors.js";

export { LIMITS } from "./limits.js";
import { LIMITS } from "./limits.js";

const trimmed = (max: number) => z.string().trim().min(1).max(max);
const id = z.string().min(1).max(LIMITS.id).regex(/^[A-Za-z0-9_-]+$/, "not an id");
const body = z.string().max(LIMITS.body).refine((s) => s.trim().length > 0, "empty message");
const clientId = z.string().min(1).max(LIMITS.clientId);
const seq = z.number().int().min(0);

// ---------- shapes sent by the server ----------

export type ConversationStatus = "queued" | "assigned" | "closed";
export const CONVERSATION_STATUSES = ["queued", "assigned", "closed"] as const;
export type Role = "customer" | "agent" | "system";
export type PresenceStatus = "online" | "away" | "offline";

/** A conversation as every client sees it (SPEC section 3). */
export interface Conversation {
  id: string;
  status: ConversationStatus;
  customer: { name: string; email?: string; online: boolean };
  topic?: string;
  assignee: { id: string; name: string } | null;
  createdAt: string;
  updatedAt: string;
  /** seq of the newest message. */
  lastSeq: number;
  /** Body of the newest message, cut to 140 characters, for list previews. */
  preview?: string;
  closedAt?: string;
}

/** One stored message. `seq` runs 1, 2, 3 … per conversation with no gaps. */
export interface Message {
  id: string;
  conversationId: string;
  seq: number;
  clientId?: string;
  author: { role: Role; id?: string; name: string };
  body: string;
  createdAt: string;
}

export interface Agent {
  id: string;
  email: string;
  name: string;
  role: "agent" | "admin";
  disabled?: boolean;
  presence?: PresenceStatus;
}

export interface PresenceEvent {
  role: "customer" | "agent";
  id: string;
  name: string;
  status: PresenceStatus;
  conversationId?: string;
}

export interface TypingEvent {
  conversationId: string;
  author: { role: "customer" | "agent"; name: string };
  isTyping: boolean;
}

export interface QueuePosition {
  position: number;
  estimatedWaitSeconds?: number;
}

export type CobrowseStatus = "requested" | "active" | "ended";
export type CobrowseEndReason = "denied" | "stopped" | "left" | "closed" | "released";
export interface CobrowseState {
  conversationId: string;
  status: CobrowseStatus;
  reason?: CobrowseEndReason;
}

// ---------- HTTP bodies ----------

export const StartConversation = z.object({
  name: trimmed(LIMITS.name),
  email: z.email().max(254).optional(),
  topic: z.string().trim().max(LIMITS.topic).optional(),
  message: body,
  clientId: clientId.optional(),
});
export type StartConversationInput = z.infer<typeof StartConversation>;

export const Login = z.object({
  email: z.string().trim().min(1).max(254),
  password: z.string().min(1).max(1024),
});

export const CreateAgent = z.object({
  email: z.email().max(254),
  name: trimmed(LIMITS.name),
  password: z.string().min(8).max(1024),
  role: z.enum(["agent", "admin"]).optional(),
});
export type CreateAgentInput = z.infer<typeof CreateAgent>;

export const UpdateAgent = z.object({
  name: trimmed(LIMITS.name).optional(),
  password: z.string().min(8).max(1024).optional(),
  disabled: z.boolean().optional(),
});

export const HistoryQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).optional(),
});

// ---------- socket payloads (client → server) ----------
// z.object strips unknown keys: a field a sender is not entitled to is ignored, never obeyed.

export const ConversationRef = z.object({ conversationId: id });

export const CustomerSend = z.object({ clientId, body });
export const AgentSend = z.object({ conversationId: id, clientId, body });
export const CustomerTyping = z.object({ isTyping: z.boolean() });
export const AgentTyping = z.object({ conversationId: id, isTyping: z.boolean() });
export const CustomerHistory = z.object({ afterSeq: seq.optional() });
export const AgentHistory = z.object({ conversationId: id, afterSeq: seq.optional() });
export const Empty = z.object({});
export const ConversationList = z.object({
  mine: z.boolean().optional(),
  status: z.enum(CONVERSATION_STATUSES).optional(),
});
export const PresenceSet = z.object({ status: z.enum(["online", "away"]) });

export const CobrowseAnswer = z.object({ allow: z.boolean() });
export const CobrowseEvents = z.object({ events: z.array(z.unknown()).min(1).max(5000) });
export const CobrowseHighlight = z.object({ conversationId: id, nodeId: z.number().int().min(0) });

export type CustomerSendInput = z.infer<typeof CustomerSend>;
export type AgentSendInput = z.infer<typeof AgentSend>;

// ---------- acks and event maps ----------

/** Every acknowledgement: `{ ok: true, ...result }` or `{ ok: false, error }`. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: WireError };
export type AckFn<T extends object = object> = (res: Ack<T>) => void;

type Req<P, R extends object = object> = (payload: P, ack?: AckFn<R>) => void;

export interface ClientToServerEvents {
  "message:send": Req<CustomerSendInput | AgentSendInput, { message: Message }>;
  typing: Req<{ isTyping: boolean; conversationId?: string }>;
  history: Req<{ afterSeq?: number; conversationId?: string }, { conversation: Conversation; messages: Message[] }>;
  "queue:list": Req<Record<string, never>, { conversations: Conversation[] }>;
  "conversation:list": Req<{ mine?: boolean; status?: ConversationStatus }, { conversations: Conversation[] }>;
  "conversation:claim": Req<{ conversationId: string }, { conversation: Conversation }>;
  "conversation:release": Req<{ conversationId: string }, { conversation: Conversation }>;
  "conversation:close": Req<{ conversationId?: string }, { conversation: Conversation }>;
  "presence:set": Req<{ status: "online" | "away" }>;
  "cobrowse:request": Req<{ conversationId: string }>;
  "cobrowse:answer": Req<{ allow: boolean }>;
  "cobrowse:events": Req<{ events: unknown[] }>;
  "cobrowse:highlight": Req<{ conversationId: string; nodeId: number }>;
  "cobrowse:stop": Req<{ conversationId?: string }>;
  "cobrowse:resync": Req<{ conversationId: string }>;
}

export interface ServerToClientEvents {
  "message:new": (message: Message) => void;
  typing: (event: TypingEvent) => void;
  "conversation:updated": (conversation: Conversation) => void;
  "queue:position": (position: QueuePosition) => void;
  presence: (event: PresenceEvent) => void;
  "cobrowse:state": (state: CobrowseState) => void;
  "cobrowse:events": (batch: { conversationId: string; events: unknown[] }) => void;
  "cobrowse:highlight": (h: { nodeId: number }) => void;
  "cobrowse:resync": (r: Record<string, never>) => void;
}

/** Between instances (through the adapter). */
export interface InterServerEvents {
  /** The queue changed: each instance pushes positions to its own waiting customers. */
  "queue:changed": () => void;
}

/** Who is on the other end of a socket. */
export type Actor =
  | { role: "customer"; conversationId: string; name: string }
  | { role: "agent"; agentId: string; name: string; isAdmin: boolean; sessionId: string };

export type AgentActor = Extract<Actor, { role: "agent" }>;
export type CustomerActor = Extract<Actor, { role: "customer" }>;

export interface SocketData {
  actor: Actor;
}

export type ClientEvent = keyof ClientToServerEvents;
