/** How records are laid out in Redis hashes. */
import type { Conversation, ConversationStatus } from "../../shared/protocol.js";
import type { AgentRecord, ConversationRecord } from "./store.js";

export type Hash = Record<string, string>;

export const pairs = (flat: unknown): Hash => {
  const out: Hash = {};
  const list = flat as string[];
  for (let i = 0; i + 1 < list.length; i += 2) out[list[i]!] = list[i + 1]!;
  return out;
};

export function toRecord(h: Hash): ConversationRecord {
  const record: ConversationRecord = {
    id: h.id!,
    status: h.status as ConversationStatus,
    customer: { ...(JSON.parse(h.customer ?? "{}") as Conversation["customer"]), online: h.customerOnline === "1" },
    assignee: h.assigneeId !== undefined ? { id: h.assigneeId, name: h.assigneeName ?? "" } : null,
    createdAt: h.createdAt!,
    updatedAt: h.updatedAt!,
    lastSeq: Number(h.lastSeq ?? 0),
    customerTokenHash: h.customerTokenHash ?? "",
  };
  if (h.topic !== undefined) record.topic = h.topic;
  if (h.preview !== undefined) record.preview = h.preview;
  if (h.closedAt !== undefined) record.closedAt = h.closedAt;
  return record;
}

export function fromRecord(c: ConversationRecord): Hash {
  const { online, ...customer } = c.customer;
  const h: Hash = {
    id: c.id,
    status: c.status,
    customer: JSON.stringify(customer),
    customerOnline: online ? "1" : "0",
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    lastSeq: String(c.lastSeq),
    customerTokenHash: c.customerTokenHash,
  };
  if (c.assignee) Object.assign(h, { assigneeId: c.assignee.id, assigneeName: c.assignee.name });
  if (c.topic !== undefined) h.topic = c.topic;
  if (c.preview !== undefined) h.preview = c.preview;
  if (c.closedAt !== undefined) h.closedAt = c.closedAt;
  return h;
}

export function toAgent(h: Hash): AgentRecord | null {
  if (!h.id) return null;
  const agent: AgentRecord = {
    id: h.id,
    email: h.email!,
    name: h.name!,
    role: h.role === "admin" ? "admin" : "agent",
    passwordHash: h.passwordHash!,
    createdAt: h.createdAt!,
  };
  if (h.disabled !== undefined) agent.disabled = h.disabled === "1";
  if (h.sessionsValidAfter !== undefined) agent.sessionsValidAfter = Number(h.sessionsValidAfter);
  return agent;
}

export function agentFields(patch: Partial<AgentRecord>): Hash {
  const h: Hash = {};
  for (const key of ["id", "email", "name", "role", "passwordHash", "createdAt"] as const) {
    const value = patch[key];
    if (value !== undefined) h[key] = value;
  }
  if (patch.disabled !== undefined) h.disabled = patch.disabled ? "1" : "0";
  if (patch.sessionsValidAfter !== undefined) h.sessionsValidAfter = String(patch.sessionsValidAfter);
  return h;
}
