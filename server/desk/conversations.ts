/** Conversations: start, read, claim, release, close, list. */
import { DeskError } from "../../shared/errors.js";
import { LIMITS, type Actor, type Conversation, type ConversationStatus, type Message, type StartConversationInput } from "../../shared/protocol.js";
import { publicConversation, type TransitionActor, type TransitionResult } from "../store/store.js";
import { isoNow, type DeskDeps } from "./deps.js";
import { customerSecretMatches, newCustomerToken, newId, parseCustomerToken } from "./tokens.js";

export type { AgentActor, CustomerActor } from "../../shared/protocol.js";
import type { AgentActor, CustomerActor } from "../../shared/protocol.js";

export async function startConversation(
  deps: DeskDeps,
  input: StartConversationInput,
): Promise<{ conversation: Conversation; message: Message; customerToken: string }> {
  const id = newId();
  const now = isoNow(deps);
  const { token, hash } = newCustomerToken(id);
  const { conversation, message } = await deps.store.createConversation(
    {
      id,
      status: "queued",
      customer: { name: input.name, ...(input.email && { email: input.email }), online: false },
      ...(input.topic && { topic: input.topic }),
      assignee: null,
      createdAt: now,
      updatedAt: now,
      lastSeq: 0,
      customerTokenHash: hash,
    },
    {
      id: newId(12),
      ...(input.clientId && { clientId: input.clientId }),
      author: { role: "customer", name: input.name },
      body: input.message,
      createdAt: now,
    },
  );
  return { conversation, message, customerToken: token };
}

/** The actor behind a customer token, or `unauthorized`. */
export async function authenticateCustomer(deps: DeskDeps, token: unknown): Promise<CustomerActor> {
  const parsed = parseCustomerToken(token);
  if (!parsed) throw new DeskError("unauthorized");
  const record = await deps.store.getConversation(parsed.conversationId);
  if (!record || !customerSecretMatches(parsed.secret, record.customerTokenHash)) throw new DeskError("unauthorized");
  return { role: "customer", conversationId: record.id, name: record.customer.name };
}

/** Resolves which conversation an actor means: a customer's own, whatever it sent. */
export function targetOf(actor: Actor, input: { conversationId?: string } | object): string {
  if (actor.role === "customer") return actor.conversationId;
  const conversationId = "conversationId" in input ? input.conversationId : undefined;
  if (typeof conversationId !== "string" || !conversationId) throw new DeskError("invalid_payload", "conversationId is required.");
  return conversationId;
}

export async function getConversation(deps: DeskDeps, actor: Actor, conversationId: string): Promise<Conversation> {
  if (actor.role === "customer" && actor.conversationId !== conversationId) throw new DeskError("forbidden");
  const record = await deps.store.getConversation(conversationId);
  if (!record) throw new DeskError("not_found", "No such conversation.");
  return publicConversation(record);
}

/** Any agent may read any conversation; a customer only its own. */
export async function history(
  deps: DeskDeps,
  actor: Actor,
  conversationId: string,
  afterSeq = 0,
): Promise<{ conversation: Conversation; messages: Message[] }> {
  const conversation = await getConversation(deps, actor, conversationId);
  const messages = await deps.store.listMessages(conversationId, afterSeq, LIMITS.historyPage);
  return { conversation, messages };
}

function unwrap(result: TransitionResult): { conversation: Conversation; previous: Conversation } {
  if (!result.ok) throw new DeskError(result.code);
  return result;
}

const transitionActor = (actor: Actor): TransitionActor =>
  actor.role === "agent" ? { role: "agent", agentId: actor.agentId, isAdmin: actor.isAdmin } : { role: "customer" };

export async function claim(deps: DeskDeps, actor: AgentActor, conversationId: string) {
  return unwrap(await deps.store.claim(conversationId, { id: actor.agentId, name: actor.name }, isoNow(deps)));
}

export async function release(deps: DeskDeps, actor: AgentActor, conversationId: string) {
  return unwrap(await deps.store.release(conversationId, transitionActor(actor), isoNow(deps)));
}

export async function close(deps: DeskDeps, actor: Actor, conversationId: string) {
  // a customer closes its own conversation, whatever it named
  const id = actor.role === "customer" ? actor.conversationId : conversationId;
  return unwrap(await deps.store.close(id, transitionActor(actor), isoNow(deps)));
}

export const listQueue = (deps: DeskDeps) => deps.store.listQueue();

/** At most this many conversations per listing, newest activity first. */
export const LIST_LIMIT = 200;

export async function listConversations(deps: DeskDeps, actor: AgentActor, filter: { mine?: boolean; status?: ConversationStatus }) {
  const all = await deps.store.listConversations({
    ...(filter.mine && { assigneeId: actor.agentId }),
    ...(filter.status && { status: filter.status }),
  });
  return all.slice(0, LIST_LIMIT);
}

/** Conversations an agent holds: its sockets join their rooms. */
export const assignedTo = (deps: DeskDeps, agentId: string) =>
  deps.store.listConversations({ assigneeId: agentId, status: "assigned" });

/**
 * Puts every conversation an agent holds back in the queue (it logged out or was
 * disabled), so that no customer is left talking to nobody.
 */
export async function releaseAllOf(deps: DeskDeps, agentId: string): Promise<{ conversation: Conversation; previous: Conversation }[]> {
  const released = [];
  for (const c of await assignedTo(deps, agentId)) {
    const result = await deps.store.release(c.id, { role: "agent", agentId, isAdmin: false }, isoNow(deps));
    if (result.ok) released.push(result);
  }
  return released;
}

/** Position of every queued conversation (1 = next). */
export async function queuePositions(deps: DeskDeps): Promise<{ conversationId: string; position: number }[]> {
  const queue = await deps.store.listQueue();
  return queue.map((c, i) => ({ conversationId: c.id, position: i + 1 }));
}
