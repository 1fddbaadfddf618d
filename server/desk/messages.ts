/** Messages: the idempotent append at the heart of the desk. */
import { DeskError } from "../../shared/errors.js";
import type { Actor, Conversation, Message } from "../../shared/protocol.js";
import { isoNow, type DeskDeps } from "./deps.js";
import { newId } from "./tokens.js";

/**
 * Stores a message (seq allocated and clientId deduped in one atomic store step) and
 * returns it; `duplicate` means a retry of a message already stored, to be acked again
 * but not broadcast again.
 */
export async function postMessage(
  deps: DeskDeps,
  actor: Actor,
  conversationId: string,
  input: { clientId: string; body: string },
): Promise<{ message: Message; conversation: Conversation; duplicate: boolean }> {
  if (actor.role === "customer" && actor.conversationId !== conversationId) throw new DeskError("forbidden");
  const author: Message["author"] =
    actor.role === "agent" ? { role: "agent", id: actor.agentId, name: actor.name } : { role: "customer", name: actor.name };
  const result = await deps.store.appendMessage(
    conversationId,
    { id: newId(12), clientId: input.clientId, author, body: input.body, createdAt: isoNow(deps) },
    actor.role === "agent" && !actor.isAdmin ? { assigneeId: actor.agentId } : {},
  );
  if (!result.ok) {
    if (result.code === "forbidden") throw new DeskError("forbidden", "Only the assignee can write in this conversation; claim it first.");
    throw new DeskError(result.code);
  }
  return result;
}

/** Typing is relayed, never stored: only the customer or the assignee (or an admin) may type. */
export async function checkTyping(deps: DeskDeps, actor: Actor, conversationId: string): Promise<Conversation> {
  const record = await deps.store.getConversation(conversationId);
  if (!record) throw new DeskError("not_found", "No such conversation.");
  if (record.status === "closed") throw new DeskError("conversation_closed");
  if (actor.role === "customer" && actor.conversationId !== conversationId) throw new DeskError("forbidden");
  if (actor.role === "agent" && !actor.isAdmin && record.assignee?.id !== actor.agentId) throw new DeskError("forbidden");
  return record;
}
