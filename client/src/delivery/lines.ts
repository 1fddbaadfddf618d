import type { Message, Role } from "../../../shared/protocol.js";
import type { WireError } from "../../../shared/errors.js";
import type { DeliveryState, Outgoing } from "./outbox.js";

/** Who is looking at the conversation; an agent is told apart by id. */
export interface Self {
  role: "customer" | "agent";
  id?: string;
  name: string;
}

/** One line of the chat as shown: a stored message, or one of ours still on its way. */
export interface ChatLine {
  /** Stable across the pending → stored transition when the line has a clientId. */
  key: string;
  seq?: number;
  clientId?: string;
  author: { role: Role; id?: string; name: string };
  body: string;
  createdAt: string;
  own: boolean;
  state: DeliveryState;
  error?: WireError;
}

const isOwn = (m: Message, self: Self) =>
  m.author.role === self.role && (self.id === undefined || m.author.id === self.id);

/** Stored messages in seq order, then our outgoing ones the desk has not stored yet. */
export function chatLines(stored: readonly Message[], outgoing: readonly Outgoing[], self: Self): ChatLine[] {
  const held = new Set<string>();
  const lines: ChatLine[] = stored.map((m) => {
    if (m.clientId) held.add(m.clientId);
    return {
      key: m.clientId ? `c:${m.clientId}` : `s:${m.seq}`,
      seq: m.seq,
      ...(m.clientId ? { clientId: m.clientId } : {}),
      author: m.author,
      body: m.body,
      createdAt: m.createdAt,
      own: isOwn(m, self),
      state: "sent",
    };
  });
  for (const o of outgoing) {
    if (held.has(o.clientId)) continue;
    lines.push({
      key: `c:${o.clientId}`,
      clientId: o.clientId,
      author: self,
      body: o.body,
      createdAt: o.createdAt,
      own: true,
      state: o.state,
      ...(o.error ? { error: o.error } : {}),
    });
  }
  return lines;
}
