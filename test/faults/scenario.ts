/**
 * What every fault test does around its fault: agents and customers on real instances,
 * traffic through the client's delivery layer, and the audit of what the store holds
 * against what the desk acknowledged.
 */
import { expect } from "vitest";
import type { Message } from "../../shared/protocol.js";
import { ADMIN, api } from "../helpers/desk.js";
import { FailoverLink, ReliableChat } from "../helpers/reliable-client.js";

let n = 0;

export interface AgentSession {
  id: string;
  name: string;
  token: string;
}

export async function newAgent(url: string, name = `Agent ${++n}`): Promise<AgentSession> {
  const admin = await api(url, "/api/auth/login", { body: ADMIN });
  const email = `fault-${++n}-${Date.now()}@example.com`;
  const created = await api(url, "/api/agents", { body: { email, name, password: "agent-password-1" }, token: admin.body.token });
  expect(created.status).toBe(201);
  const session = await api(url, "/api/auth/login", { body: { email, password: "agent-password-1" } });
  return { id: created.body.agent.id as string, name, token: session.body.token as string };
}

export interface Started {
  id: string;
  name: string;
  customerToken: string;
}

export async function startConversations(url: string, count: number): Promise<Started[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const name = `Customer ${++n}`;
      const res = await api(url, "/api/conversations", { body: { name, message: "Hello, I need help" } });
      expect(res.status).toBe(201);
      return { id: res.body.conversation.id as string, name, customerToken: res.body.customerToken as string };
    }),
  );
}

/** An agent on `urls` that claims `conversations` and watches each through its own feed. */
export async function assignee(urls: string[], agent: AgentSession, conversations: Started[]) {
  const link = new FailoverLink({ urls, auth: { agentToken: agent.token } });
  const self = { role: "agent" as const, id: agent.id, name: agent.name };
  link.connect();
  const views = new Map<string, ReliableChat>();
  for (const c of conversations) {
    const view = new ReliableChat({ urls, auth: { agentToken: agent.token }, link, conversationId: c.id, self });
    views.set(c.id, view);
  }
  // the first view's start() connects the shared link; the others only subscribe
  for (const view of views.values()) await view.start();
  for (const c of conversations) {
    const res = await link.request("conversation:claim", { conversationId: c.id });
    expect(res.ok, JSON.stringify(res)).toBe(true);
  }
  return {
    link,
    views,
    close() {
      for (const v of views.values()) v.feed.stop();
      link.close();
    },
  };
}

export async function customers(urls: string[], conversations: Started[]): Promise<ReliableChat[]> {
  const chats = conversations.map(
    (c) => new ReliableChat({ urls, auth: { customerToken: c.customerToken }, conversationId: null, self: { role: "customer", name: c.name } }),
  );
  await Promise.all(chats.map((c) => c.start()));
  return chats;
}

/** Each chat sends `count` messages, at most `window` of them unacknowledged at a time. */
export async function traffic(chats: ReliableChat[], count: number, window = 3, timeoutMs = 45_000): Promise<void> {
  await Promise.all(
    chats.map(async (chat, i) => {
      const pending: Promise<Message>[] = [];
      for (let k = 0; k < count; k++) {
        pending.push(chat.send(`customer ${i} message ${k}`, timeoutMs));
        if (pending.length >= window) await pending.shift();
      }
      await Promise.all(pending);
    }),
  );
}

export const totalAcked = (chats: ReliableChat[]) => chats.reduce((sum, c) => sum + c.link.acked.size, 0);

/** Every message of a conversation, through the HTTP API. */
export async function storedMessages(url: string, token: string, conversationId: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const res = await api(url, `/api/conversations/${conversationId}/messages?afterSeq=${all.length}`, { token });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const page = res.body.messages as Message[];
    all.push(...page);
    if (page.length === 0 || page.length < 500) return all;
  }
}

export interface Audit {
  sent: number;
  /** Acks the clients received (a message stored just before a crash may reach its client through `history` instead). */
  acknowledged: number;
  /** Sent and not in the store. */
  missing: number;
  /** Acknowledged but not in the store. */
  lost: number;
  /** Extra copies of one clientId in one conversation. */
  duplicated: number;
  /** Seqs out of place (a gap or a repeat). */
  gaps: number;
  stored: Map<string, Message[]>;
}

/** Compares what each customer's link saw acknowledged with what the store holds. */
export async function audit(url: string, token: string, pairs: { conversationId: string; chat: ReliableChat }[]): Promise<Audit> {
  const result: Audit = { sent: 0, acknowledged: 0, missing: 0, lost: 0, duplicated: 0, gaps: 0, stored: new Map() };
  for (const { conversationId, chat } of pairs) {
    const stored = await storedMessages(url, token, conversationId);
    result.stored.set(conversationId, stored);
    const copies = new Map<string, number>();
    stored.forEach((m, i) => {
      if (m.seq !== i + 1) result.gaps++;
      if (m.clientId) copies.set(m.clientId, (copies.get(m.clientId) ?? 0) + 1);
    });
    for (const count of copies.values()) result.duplicated += count - 1;
    result.sent += chat.sent.length;
    result.missing += chat.sent.filter((id) => !copies.has(id)).length;
    for (const [clientId, acked] of chat.link.acked) {
      result.acknowledged++;
      const held = stored.find((m) => m.clientId === clientId);
      if (!held) result.lost++;
      else expect(held.seq).toBe(acked.seq);
    }
  }
  return result;
}

/** The audit's figures, in the order every report prints them. */
export const auditFigures = (a: Audit) => ({
  sent: a.sent,
  stored: a.sent - a.missing,
  acknowledged: a.acknowledged,
  lost: a.lost,
  duplicated: a.duplicated,
  gaps: a.gaps,
});

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** One line per scenario: `[fault] <name> key=value …`, easy to grep out of a test run. */
export function report(name: string, figures: Record<string, number | string | boolean>): void {
  const text = Object.entries(figures)
    .map(([k, v]) => `${k}=${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(0) : v}`)
    .join(" ");
  console.log(`[fault] ${name} ${text}`);
}

export const ms = (values: number[]) => ({ p50: Math.round(percentile(values, 50)), p99: Math.round(percentile(values, 99)) });

/** Polls `check` until it passes (every `interval` ms); for conditions no event announces. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, interval = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
