/**
 * Co-browse (SPEC section 8): the consent state of one conversation, kept in the store so
 * that every instance sees it. Page data is relayed, never stored: these functions only
 * decide whether a relay is allowed and to whom.
 *
 * requested ──answer allow──▶ active ──stop / left / closed / released──▶ ended
 *     └──answer deny, stop, closed, released──▶ ended
 */
import { DeskError } from "../../shared/errors.js";
import { LIMITS, type Actor, type CobrowseEndReason, type CobrowseState } from "../../shared/protocol.js";
import type { CobrowseRecord, ConversationRecord } from "../store/store.js";
import type { AgentActor, CustomerActor } from "./conversations.js";
import { isoNow, type DeskDeps } from "./deps.js";

/** A state change to announce to the conversation's room and to the assignee's sockets. */
export interface CobrowseChange {
  state: CobrowseState;
  /** The assignee who asked: the only one who sees the mirror. */
  agentId: string;
}

/** Who may receive a relay of the customer's page. */
export interface CobrowseTarget {
  conversationId: string;
  agentId: string;
}

const LIVE = ["requested", "active"] as const;

const publicState = ({ conversationId, status, reason }: CobrowseRecord): CobrowseState => ({
  conversationId,
  status,
  ...(reason && { reason }),
});

const ended = (current: CobrowseRecord, reason: CobrowseEndReason, deps: DeskDeps): CobrowseRecord => ({
  conversationId: current.conversationId,
  status: "ended",
  reason,
  ...(current.agentId && { agentId: current.agentId }),
  updatedAt: isoNow(deps),
});

const notAllowed = (why: string) => new DeskError("forbidden", why);

async function assignedConversation(deps: DeskDeps, conversationId: string): Promise<ConversationRecord> {
  const record = await deps.store.getConversation(conversationId);
  if (!record) throw new DeskError("not_found", "No such conversation.");
  if (record.status === "closed") throw new DeskError("conversation_closed");
  return record;
}

/** Writes `next` when the current status is one of `expect`; `forbidden` when the state moved on. */
async function transition(deps: DeskDeps, next: CobrowseRecord, expect: (CobrowseRecord["status"] | null)[]): Promise<CobrowseChange> {
  if (!next.agentId) throw new Error("a co-browse session always has an agent");
  const ok = await deps.store.setCobrowse(next.conversationId, next, expect);
  if (!ok) throw notAllowed("The co-browse session is not in a state that allows this.");
  return { state: publicState(next), agentId: next.agentId };
}

/** The assignee asks to see the customer's page. Only the assignee of an assigned conversation may. */
export async function requestCobrowse(deps: DeskDeps, actor: AgentActor, conversationId: string): Promise<CobrowseChange> {
  const record = await assignedConversation(deps, conversationId);
  if (record.assignee?.id !== actor.agentId) throw notAllowed("Only the assignee can ask to see the customer's page.");
  // A leftover `requested` (a release nobody saw) is asked again; an active session is not.
  return transition(
    deps,
    { conversationId, status: "requested", agentId: actor.agentId, updatedAt: isoNow(deps) },
    [null, "ended", "requested"],
  );
}

/** The customer answers a pending request; when it allows, `socketId` alone may stream. */
export async function answerCobrowse(deps: DeskDeps, actor: CustomerActor, socketId: string, allow: boolean): Promise<CobrowseChange> {
  const conversationId = actor.conversationId;
  const current = await deps.store.getCobrowse(conversationId);
  if (current?.status !== "requested" || !current.agentId) throw notAllowed("There is no co-browse request to answer.");
  const record = await assignedConversation(deps, conversationId);
  if (record.assignee?.id !== current.agentId) throw notAllowed("The agent who asked no longer holds this conversation.");
  const next: CobrowseRecord = allow
    ? { conversationId, status: "active", agentId: current.agentId, streamerSocketId: socketId, updatedAt: isoNow(deps) }
    : { conversationId, status: "ended", reason: "denied", agentId: current.agentId, updatedAt: isoNow(deps) };
  return transition(deps, next, ["requested"]);
}

/** Refuses a batch whose JSON is not under `LIMITS.cobrowseBatch` bytes: the sender splits it. */
export function checkBatchSize(events: unknown[]): void {
  const bytes = Buffer.byteLength(JSON.stringify(events));
  if (bytes >= LIMITS.cobrowseBatch) {
    throw new DeskError("invalid_payload", `A co-browse batch must stay under ${LIMITS.cobrowseBatch} bytes (got ${bytes}); split it.`);
  }
}

/** Where the streaming socket's batch goes; `forbidden` unless this very socket was allowed. */
export async function streamTarget(deps: DeskDeps, actor: CustomerActor, socketId: string): Promise<CobrowseTarget> {
  const current = await deps.store.getCobrowse(actor.conversationId);
  if (current?.status !== "active" || !current.agentId) throw notAllowed("Co-browse is not active: the customer has not allowed it.");
  if (current.streamerSocketId !== socketId) throw notAllowed("Only the tab that allowed co-browse may stream.");
  await stillHeldBy(deps, actor.conversationId, current.agentId);
  return { conversationId: actor.conversationId, agentId: current.agentId };
}

/** The assignee acting on an active session (highlight, resync). */
export async function assigneeOfActive(deps: DeskDeps, actor: AgentActor, conversationId: string): Promise<CobrowseTarget> {
  const current = await deps.store.getCobrowse(conversationId);
  if (current?.status !== "active" || current.agentId !== actor.agentId) {
    throw notAllowed("Only the assignee can do this, and only while co-browse is active.");
  }
  await stillHeldBy(deps, conversationId, actor.agentId);
  return { conversationId, agentId: actor.agentId };
}

/**
 * The page goes only to whoever holds the conversation now: a session whose end was
 * missed (a release racing the customer's answer) relays nothing to a former assignee.
 */
async function stillHeldBy(deps: DeskDeps, conversationId: string, agentId: string): Promise<void> {
  const record = await deps.store.getConversation(conversationId);
  if (record?.status !== "assigned" || record.assignee?.id !== agentId) {
    throw notAllowed("The agent who asked no longer holds this conversation.");
  }
}

/** Either side stops a requested or active session. */
export async function stopCobrowse(deps: DeskDeps, actor: Actor, conversationId: string): Promise<CobrowseChange> {
  const current = await deps.store.getCobrowse(conversationId);
  if (!current?.agentId || !LIVE.some((s) => s === current.status)) throw notAllowed("There is no co-browse session to stop.");
  if (actor.role === "customer" ? actor.conversationId !== conversationId : actor.agentId !== current.agentId) {
    throw notAllowed("Only the customer or the assignee can stop co-browse.");
  }
  return transition(deps, ended(current, "stopped", deps), [...LIVE]);
}

/**
 * Ends a live session for a reason outside it (the streamer left, the conversation was
 * closed or released). Returns the change to announce, or null when there was nothing to
 * end or another instance ended it first.
 */
export async function endCobrowse(
  deps: DeskDeps,
  conversationId: string,
  reason: Extract<CobrowseEndReason, "left" | "closed" | "released">,
  onlyIfStreamer?: string,
): Promise<CobrowseChange | null> {
  const current = await deps.store.getCobrowse(conversationId);
  if (!current?.agentId || !LIVE.some((s) => s === current.status)) return null;
  if (onlyIfStreamer !== undefined && (current.status !== "active" || current.streamerSocketId !== onlyIfStreamer)) return null;
  // a close or release ends whatever is live (a request answered meanwhile included)
  const ok = await deps.store.setCobrowse(conversationId, ended(current, reason, deps), onlyIfStreamer === undefined ? [...LIVE] : ["active"]);
  return ok ? { state: { conversationId, status: "ended", reason }, agentId: current.agentId } : null;
}

/** The live sessions of an agent's conversations, for a socket of that agent that just connected. */
export async function liveSessionsOf(deps: DeskDeps, agentId: string, conversationIds: string[]): Promise<CobrowseState[]> {
  const records = await Promise.all(conversationIds.map((id) => deps.store.getCobrowse(id)));
  return records
    .filter((r): r is CobrowseRecord => !!r && r.agentId === agentId && LIVE.some((s) => s === r.status))
    .map(publicState);
}

/** The live session of a customer's conversation, for a customer socket that just connected. */
export async function liveSessionOf(deps: DeskDeps, conversationId: string): Promise<CobrowseState | null> {
  const record = await deps.store.getCobrowse(conversationId);
  return record && LIVE.some((s) => s === record.status) ? publicState(record) : null;
}
