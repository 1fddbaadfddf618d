/**
 * One contract, every backend: each `Store` implementation runs this suite
 * (`store.memory.test.ts`, `store.redis.test.ts`).
 */
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentRecord, CobrowseRecord, ConversationRecord, NewMessage, Store, TransitionActor } from "../server/store/store.js";

const BASE = Date.UTC(2024, 0, 1);
/** A fixed clock: `at(n)` is n seconds after the start of 2024. */
export const at = (seconds: number) => new Date(BASE + seconds * 1000).toISOString();

export const newId = () => randomUUID().replaceAll("-", "");

export function newConversation(over: Partial<ConversationRecord> = {}): ConversationRecord {
  return {
    id: newId(),
    status: "queued",
    customer: { name: "Ada", email: "ada@example.com", online: true },
    topic: "billing",
    assignee: null,
    createdAt: at(0),
    updatedAt: at(0),
    lastSeq: 0,
    customerTokenHash: "token-hash",
    ...over,
  };
}

export function customerMessage(body: string, clientId?: string, createdAt = at(1)): NewMessage {
  return { id: newId(), ...(clientId ? { clientId } : {}), author: { role: "customer", name: "Ada" }, body, createdAt };
}

function agentMessage(agentId: string, body: string, clientId?: string, createdAt = at(2)): NewMessage {
  return { id: newId(), ...(clientId ? { clientId } : {}), author: { role: "agent", id: agentId, name: "Grace" }, body, createdAt };
}

function newAgent(over: Partial<AgentRecord> = {}): AgentRecord {
  const id = newId();
  return { id, email: `${id}@example.com`, name: "Grace", role: "agent", passwordHash: "scrypt$x", createdAt: at(0), ...over };
}

const grace = { id: "agent-grace", name: "Grace" };
const linus = { id: "agent-linus", name: "Linus" };
const asAgent = (id: string, isAdmin = false): TransitionActor => ({ role: "agent", agentId: id, isAdmin });
const customer: TransitionActor = { role: "customer" };

export function storeContract(name: string, make: () => Promise<Store>, cleanup?: (store: Store) => Promise<void>) {
  describe(`${name} store`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await make();
    });

    afterEach(async () => {
      if (cleanup) await cleanup(store);
      else await store.disconnect();
    });

    /** A queued conversation whose first message is seq 1. */
    async function started(over: Partial<ConversationRecord> = {}) {
      const { conversation } = await store.createConversation(newConversation(over), customerMessage("hello", "c-first", at(0)));
      return conversation;
    }

    describe("conversations and messages", () => {
      it("stores a new conversation queued, with its first message as seq 1", async () => {
        const record = newConversation();
        const { conversation, message } = await store.createConversation(record, customerMessage("hello", "c1", at(0)));
        expect(conversation).toMatchObject({ id: record.id, status: "queued", lastSeq: 1, assignee: null, preview: "hello" });
        expect(conversation).not.toHaveProperty("customerTokenHash");
        expect(message).toMatchObject({ conversationId: record.id, seq: 1, clientId: "c1", body: "hello" });
        const stored = await store.getConversation(record.id);
        expect(stored).toMatchObject({ id: record.id, status: "queued", lastSeq: 1, topic: "billing", customerTokenHash: "token-hash" });
        expect(stored?.customer).toEqual({ name: "Ada", email: "ada@example.com", online: true });
        expect(await store.listMessages(record.id, 0, 10)).toEqual([message]);
      });

      it("gives each of 50 concurrent appends the next seq, with no gaps and no repeats", async () => {
        const c = await started();
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.appendMessage(c.id, customerMessage(`m${i}`, `c${i}`), {})),
        );
        const seqs = results.map((r) => (r.ok ? r.message.seq : -1)).sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
        const messages = await store.listMessages(c.id, 0, 100);
        expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
        expect((await store.getConversation(c.id))?.lastSeq).toBe(51);
      });

      it("updates lastSeq, preview and updatedAt of the conversation on append", async () => {
        const c = await started();
        const long = "x".repeat(500);
        const result = await store.appendMessage(c.id, customerMessage(long, "c2", at(9)), {});
        expect(result.ok && result.conversation).toMatchObject({ lastSeq: 2, updatedAt: at(9), preview: "x".repeat(140) });
        expect(await store.getConversation(c.id)).toMatchObject({ lastSeq: 2, updatedAt: at(9) });
      });

      it("returns the stored message with duplicate: true when a clientId is retried, without using a seq", async () => {
        const c = await started();
        const first = await store.appendMessage(c.id, customerMessage("once", "retry-me"), {});
        const again = await store.appendMessage(c.id, customerMessage("once (retry)", "retry-me"), {});
        expect(first).toMatchObject({ ok: true, duplicate: false, message: { seq: 2, body: "once" } });
        expect(again).toMatchObject({ ok: true, duplicate: true, message: { seq: 2, body: "once" } });
        if (first.ok && again.ok) expect(again.message).toEqual(first.message);
        const next = await store.appendMessage(c.id, customerMessage("next", "other"), {});
        expect(next.ok && next.message.seq).toBe(3);
      });

      it("treats the first message's clientId as taken", async () => {
        const c = await started();
        const retry = await store.appendMessage(c.id, customerMessage("hello", "c-first"), {});
        expect(retry).toMatchObject({ ok: true, duplicate: true, message: { seq: 1 } });
      });

      it("stores a message once when the same clientId is retried concurrently", async () => {
        const c = await started();
        const results = await Promise.all(Array.from({ length: 20 }, () => store.appendMessage(c.id, customerMessage("storm", "same"), {})));
        expect(results.every((r) => r.ok && r.message.seq === 2)).toBe(true);
        expect(results.filter((r) => r.ok && !r.duplicate)).toHaveLength(1);
        expect(await store.listMessages(c.id, 0, 10)).toHaveLength(2);
      });

      it("appends messages without a clientId every time", async () => {
        const c = await started();
        await store.appendMessage(c.id, customerMessage("a"), {});
        await store.appendMessage(c.id, customerMessage("a"), {});
        expect((await store.listMessages(c.id, 0, 10)).map((m) => m.seq)).toEqual([1, 2, 3]);
      });

      it("refuses to append to a closed conversation with conversation_closed", async () => {
        const c = await started();
        await store.close(c.id, customer, at(5));
        expect(await store.appendMessage(c.id, customerMessage("late", "late"), {})).toEqual({ ok: false, code: "conversation_closed" });
        expect(await store.listMessages(c.id, 0, 10)).toHaveLength(1);
      });

      it("still returns an already stored message when its clientId is retried after close", async () => {
        const c = await started();
        const sent = await store.appendMessage(c.id, customerMessage("before close", "kept"), {});
        await store.close(c.id, customer, at(5));
        const retry = await store.appendMessage(c.id, customerMessage("before close", "kept"), {});
        expect(retry).toMatchObject({ ok: true, duplicate: true, conversation: { status: "closed" } });
        if (sent.ok && retry.ok) expect(retry.message).toEqual(sent.message);
      });

      it("refuses an agent message from anyone but the assignee with forbidden", async () => {
        const c = await started();
        expect(await store.appendMessage(c.id, agentMessage(grace.id, "too early"), { assigneeId: grace.id })).toEqual({ ok: false, code: "forbidden" });
        await store.claim(c.id, grace, at(3));
        expect(await store.appendMessage(c.id, agentMessage(linus.id, "not mine"), { assigneeId: linus.id })).toEqual({ ok: false, code: "forbidden" });
        const ok = await store.appendMessage(c.id, agentMessage(grace.id, "hi, Grace here", "g1"), { assigneeId: grace.id });
        expect(ok).toMatchObject({ ok: true, duplicate: false, message: { seq: 2, author: { role: "agent", id: grace.id } } });
      });

      it("lists messages after a seq, oldest first, at most limit", async () => {
        const c = await started();
        for (let i = 2; i <= 10; i++) await store.appendMessage(c.id, customerMessage(`m${i}`, `c${i}`), {});
        expect((await store.listMessages(c.id, 0, 3)).map((m) => m.seq)).toEqual([1, 2, 3]);
        expect((await store.listMessages(c.id, 7, 100)).map((m) => m.seq)).toEqual([8, 9, 10]);
        expect((await store.listMessages(c.id, 4, 2)).map((m) => m.body)).toEqual(["m5", "m6"]);
        expect(await store.listMessages(c.id, 10, 10)).toEqual([]);
      });

      it("answers not_found (or nothing) for an unknown conversation everywhere", async () => {
        const id = newId();
        expect(await store.getConversation(id)).toBeNull();
        expect(await store.appendMessage(id, customerMessage("x", "x"), {})).toEqual({ ok: false, code: "not_found" });
        expect(await store.claim(id, grace, at(1))).toEqual({ ok: false, code: "not_found" });
        expect(await store.release(id, asAgent(grace.id, true), at(1))).toEqual({ ok: false, code: "not_found" });
        expect(await store.close(id, customer, at(1))).toEqual({ ok: false, code: "not_found" });
        expect(await store.listMessages(id, 0, 10)).toEqual([]);
        expect(await store.setCustomerOnline(id, false)).toBeNull();
        expect(await store.getConversation(id)).toBeNull();
      });

      it("marks the customer online and offline", async () => {
        const c = await started();
        expect(await store.setCustomerOnline(c.id, false)).toMatchObject({ id: c.id, customer: { name: "Ada", online: false } });
        expect((await store.getConversation(c.id))?.customer.online).toBe(false);
        expect((await store.setCustomerOnline(c.id, true))?.customer.online).toBe(true);
      });
    });

    describe("claim, release and close", () => {
      it("lets exactly one of 20 concurrent claims succeed; the others get already_claimed", async () => {
        const c = await started();
        const agents = Array.from({ length: 20 }, (_, i) => ({ id: `agent-${i}`, name: `Agent ${i}` }));
        const results = await Promise.all(agents.map((a) => store.claim(c.id, a, at(3))));
        const winners = results.filter((r) => r.ok);
        expect(winners).toHaveLength(1);
        expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.code === "already_claimed")).toBe(true);
        const winner = winners[0]!;
        if (!winner.ok) throw new Error("unreachable");
        expect(winner.previous).toMatchObject({ status: "queued", assignee: null });
        expect(winner.conversation).toMatchObject({ status: "assigned", updatedAt: at(3) });
        expect(await store.getConversation(c.id)).toMatchObject({ status: "assigned", assignee: winner.conversation.assignee });
      });

      it("refuses to claim a closed conversation with conversation_closed", async () => {
        const c = await started();
        await store.close(c.id, customer, at(2));
        expect(await store.claim(c.id, grace, at(3))).toEqual({ ok: false, code: "conversation_closed" });
      });

      it("refuses a release by anyone but the assignee or an admin with forbidden", async () => {
        const c = await started();
        expect(await store.release(c.id, asAgent(grace.id), at(2))).toEqual({ ok: false, code: "forbidden" });
        await store.claim(c.id, grace, at(3));
        expect(await store.release(c.id, asAgent(linus.id), at(4))).toEqual({ ok: false, code: "forbidden" });
        expect(await store.release(c.id, customer, at(4))).toEqual({ ok: false, code: "forbidden" });
        expect((await store.getConversation(c.id))?.assignee).toEqual(grace);
      });

      it("puts a conversation back in the queue when its assignee releases it", async () => {
        const c = await started();
        await store.claim(c.id, grace, at(3));
        const released = await store.release(c.id, asAgent(grace.id), at(4));
        expect(released).toMatchObject({ ok: true, previous: { status: "assigned", assignee: grace }, conversation: { status: "queued", assignee: null, updatedAt: at(4) } });
        expect((await store.listQueue()).map((q) => q.id)).toEqual([c.id]);
        expect(await store.claim(c.id, linus, at(5))).toMatchObject({ ok: true, conversation: { assignee: linus } });
      });

      it("lets an admin release a conversation it does not hold", async () => {
        const c = await started();
        await store.claim(c.id, grace, at(3));
        expect(await store.release(c.id, asAgent(linus.id, true), at(4))).toMatchObject({ ok: true, conversation: { status: "queued" } });
      });

      it("closes a conversation for its customer, its assignee or an admin, and only once", async () => {
        const byCustomer = await started();
        expect(await store.close(byCustomer.id, customer, at(5))).toMatchObject({
          ok: true,
          previous: { status: "queued" },
          conversation: { status: "closed", closedAt: at(5), updatedAt: at(5) },
        });
        expect(await store.close(byCustomer.id, customer, at(6))).toEqual({ ok: false, code: "conversation_closed" });

        const byAssignee = await started();
        await store.claim(byAssignee.id, grace, at(3));
        expect(await store.close(byAssignee.id, asAgent(linus.id), at(5))).toEqual({ ok: false, code: "forbidden" });
        expect(await store.close(byAssignee.id, asAgent(grace.id), at(5))).toMatchObject({ ok: true, conversation: { status: "closed", assignee: grace } });

        const byAdmin = await started();
        expect(await store.close(byAdmin.id, asAgent(grace.id), at(5))).toEqual({ ok: false, code: "forbidden" });
        expect(await store.close(byAdmin.id, asAgent(linus.id, true), at(5))).toMatchObject({ ok: true });
        expect(await store.release(byAdmin.id, asAgent(linus.id, true), at(6))).toEqual({ ok: false, code: "conversation_closed" });
      });
    });

    describe("listings", () => {
      it("lists the queue oldest first, without claimed or closed conversations", async () => {
        const second = await started({ createdAt: at(20), updatedAt: at(20) });
        const first = await started({ createdAt: at(10), updatedAt: at(10) });
        const claimed = await started({ createdAt: at(5), updatedAt: at(5) });
        const closed = await started({ createdAt: at(6), updatedAt: at(6) });
        const third = await started({ createdAt: at(30), updatedAt: at(30) });
        await store.claim(claimed.id, grace, at(40));
        await store.close(closed.id, customer, at(41));
        await store.appendMessage(second.id, customerMessage("bump", "bump", at(50)), {});
        expect((await store.listQueue()).map((c) => c.id)).toEqual([first.id, second.id, third.id]);
        expect((await store.listQueue())[0]).not.toHaveProperty("customerTokenHash");
      });

      it("lists conversations by assignee and by status, newest activity first", async () => {
        const a = await started({ createdAt: at(1), updatedAt: at(1) });
        const b = await started({ createdAt: at(2), updatedAt: at(2) });
        const c = await started({ createdAt: at(3), updatedAt: at(3) });
        const d = await started({ createdAt: at(4), updatedAt: at(4) });
        await store.claim(a.id, grace, at(10));
        await store.claim(b.id, grace, at(11));
        await store.claim(c.id, linus, at(12));
        await store.close(b.id, asAgent(grace.id), at(13));
        await store.appendMessage(a.id, agentMessage(grace.id, "latest", "g", at(20)), { assigneeId: grace.id });
        const ids = async (filter: Parameters<Store["listConversations"]>[0]) => (await store.listConversations(filter)).map((x) => x.id);

        expect(await ids({ assigneeId: grace.id })).toEqual([a.id, b.id]);
        expect(await ids({ assigneeId: grace.id, status: "assigned" })).toEqual([a.id]);
        expect(await ids({ assigneeId: grace.id, status: "closed" })).toEqual([b.id]);
        expect(await ids({ assigneeId: grace.id, status: "queued" })).toEqual([]);
        expect(await ids({ assigneeId: "agent-nobody" })).toEqual([]);
        expect(await ids({ status: "assigned" })).toEqual([a.id, c.id]);
        expect(await ids({ status: "queued" })).toEqual([d.id]);
        expect(await ids({ status: "closed" })).toEqual([b.id]);
        expect(await ids({})).toEqual([a.id, b.id, c.id, d.id]);
      });

      it("moves a released conversation from its agent's list back to the queue", async () => {
        const c = await started();
        await store.claim(c.id, grace, at(3));
        expect((await store.listConversations({ assigneeId: grace.id })).map((x) => x.id)).toEqual([c.id]);
        await store.release(c.id, asAgent(grace.id), at(4));
        expect(await store.listConversations({ assigneeId: grace.id })).toEqual([]);
        expect((await store.listConversations({ status: "queued" })).map((x) => x.id)).toEqual([c.id]);
      });
    });

    describe("agents and sessions", () => {
      it("creates an agent and finds it by id and by email in any case", async () => {
        const agent = newAgent({ email: "Grace@Example.COM", role: "admin" });
        const created = await store.createAgent(agent);
        expect(created).toMatchObject({ ok: true, agent: { id: agent.id, email: "grace@example.com", role: "admin" } });
        expect(await store.getAgent(agent.id)).toMatchObject({ id: agent.id, email: "grace@example.com", name: "Grace", passwordHash: "scrypt$x", createdAt: at(0) });
        expect((await store.getAgentByEmail("GRACE@example.com"))?.id).toBe(agent.id);
        expect(await store.getAgent(newId())).toBeNull();
        expect(await store.getAgentByEmail("nobody@example.com")).toBeNull();
      });

      it("refuses a second agent with the same email, whatever its case, with conflict", async () => {
        await store.createAgent(newAgent({ email: "same@example.com" }));
        expect(await store.createAgent(newAgent({ email: "SAME@example.com" }))).toEqual({ ok: false, code: "conflict" });
        const racing = await Promise.all(Array.from({ length: 5 }, () => store.createAgent(newAgent({ email: "race@example.com" }))));
        expect(racing.filter((r) => r.ok)).toHaveLength(1);
      });

      it("upserts: creates the agent, then updates its name, role and password and re-enables it", async () => {
        const first = await store.upsertAgent(newAgent({ email: "admin@example.com", name: "Admin", role: "admin" }));
        await store.updateAgent(first.id, { disabled: true });
        const again = await store.upsertAgent(newAgent({ email: "ADMIN@example.com", name: "Root", role: "admin", passwordHash: "scrypt$y" }));
        expect(again).toMatchObject({ id: first.id, name: "Root", passwordHash: "scrypt$y", disabled: false });
        expect(await store.getAgent(first.id)).toMatchObject({ name: "Root", passwordHash: "scrypt$y", disabled: false });
        expect(await store.listAgents()).toHaveLength(1);
      });

      it("keeps the moment before which an agent's sessions no longer count", async () => {
        const agent = newAgent();
        await store.createAgent(agent);
        expect((await store.getAgent(agent.id))?.sessionsValidAfter).toBeUndefined();
        await store.updateAgent(agent.id, { sessionsValidAfter: 1_700_000_000_123 });
        expect((await store.getAgent(agent.id))?.sessionsValidAfter).toBe(1_700_000_000_123);
        await store.upsertAgent({ ...agent, passwordHash: "scrypt$y", sessionsValidAfter: 1_700_000_000_999 });
        expect((await store.getAgentByEmail(agent.email))?.sessionsValidAfter).toBe(1_700_000_000_999);
      });

      it("updates an agent's fields and answers null for an unknown one", async () => {
        const agent = newAgent();
        await store.createAgent(agent);
        expect(await store.updateAgent(agent.id, { name: "Grace H.", disabled: true, role: "admin" })).toMatchObject({ name: "Grace H.", disabled: true, role: "admin" });
        expect(await store.getAgent(agent.id)).toMatchObject({ name: "Grace H.", disabled: true, role: "admin", email: agent.email });
        expect(await store.updateAgent(newId(), { name: "x" })).toBeNull();
      });

      it("lists agents by name", async () => {
        for (const name of ["Linus", "Ada", "Grace"]) await store.createAgent(newAgent({ name }));
        expect((await store.listAgents()).map((a) => a.name)).toEqual(["Ada", "Grace", "Linus"]);
      });

      it("remembers a revoked session until its expiry", async () => {
        const sid = newId();
        expect(await store.isSessionRevoked(sid)).toBe(false);
        await store.revokeSession(sid, Date.now() + 60_000);
        expect(await store.isSessionRevoked(sid)).toBe(true);
        const short = newId();
        await store.revokeSession(short, Date.now() + 150);
        expect(await store.isSessionRevoked(short)).toBe(true);
        await new Promise((r) => setTimeout(r, 300));
        expect(await store.isSessionRevoked(short)).toBe(false);
        await store.revokeSession(newId(), Date.now() - 1000);
      });
    });

    describe("presence", () => {
      it("reports a person offline until their first socket joins, and not again for a second socket", async () => {
        const now = Date.now();
        expect(await store.isOnline("agent:a")).toBe(false);
        expect(await store.presenceJoin("agent:a", "s1", now + 30_000)).toBe(true);
        expect(await store.presenceJoin("agent:a", "s2", now + 30_000)).toBe(false);
        expect(await store.isOnline("agent:a")).toBe(true);
        expect(await store.presenceSweep(now)).toEqual([]);
      });

      it("keeps a person online through the grace of a leaving socket, then sweeps them once", async () => {
        const now = 1_000_000;
        await store.presenceJoin("customer:c1", "s1", now + 30_000);
        await store.presenceLeave("customer:c1", "s1", now + 2_000);
        expect(await store.presenceSweep(now + 1_000)).toEqual([]);
        expect(await store.isOnline("customer:c1")).toBe(true);
        expect(await store.presenceSweep(now + 2_000)).toEqual(["customer:c1"]);
        expect(await store.isOnline("customer:c1")).toBe(false);
        expect(await store.presenceSweep(now + 3_000)).toEqual([]);
      });

      it("never extends a socket's life on leave", async () => {
        const now = 1_000_000;
        await store.presenceJoin("agent:a", "s1", now + 100);
        await store.presenceLeave("agent:a", "s1", now + 60_000);
        expect(await store.presenceSweep(now + 100)).toEqual(["agent:a"]);
      });

      it("keeps a person online while one of their sockets is alive", async () => {
        const now = 1_000_000;
        await store.presenceJoin("agent:a", "s1", now + 30_000);
        await store.presenceJoin("agent:a", "s2", now + 30_000);
        await store.presenceLeave("agent:a", "s1", now);
        expect(await store.presenceSweep(now + 1)).toEqual([]);
        expect(await store.isOnline("agent:a")).toBe(true);
      });

      it("extends the life of touched sockets, and puts back a still-connected one that was swept", async () => {
        const now = 1_000_000;
        await store.presenceJoin("agent:a", "s1", now + 100);
        await store.presenceJoin("agent:b", "s2", now + 100);
        expect(await store.presenceTouch([{ person: "agent:a", socketId: "s1" }], now + 10_000)).toEqual([]);
        expect(await store.presenceSweep(now + 500)).toEqual(["agent:b"]);
        expect(await store.isOnline("agent:b")).toBe(false);
        expect(await store.isOnline("agent:a")).toBe(true);
        // b's heartbeats had failed (Redis away) but its socket is still connected
        expect(await store.presenceTouch([{ person: "agent:b", socketId: "s2" }], now + 10_000)).toEqual(["agent:b"]);
        expect(await store.isOnline("agent:b")).toBe(true);
        expect(await store.presenceSweep(now + 600)).toEqual([]);
      });

      it("returns each gone person exactly once when two sweeps race", async () => {
        const now = 1_000_000;
        const persons = Array.from({ length: 30 }, (_, i) => `agent:p${i}`);
        await Promise.all(persons.map((p) => store.presenceJoin(p, `s-${p}`, now + 10)));
        await store.presenceJoin("agent:stays", "s", now + 60_000);
        const [one, two] = await Promise.all([store.presenceSweep(now + 10), store.presenceSweep(now + 10)]);
        expect([...one!, ...two!].sort()).toEqual([...persons].sort());
        expect(await store.presenceSweep(now + 20)).toEqual([]);
      });

      it("counts a person who comes back after a sweep as newly online", async () => {
        const now = 1_000_000;
        await store.presenceJoin("agent:a", "s1", now + 10);
        expect(await store.presenceSweep(now + 10)).toEqual(["agent:a"]);
        expect(await store.presenceJoin("agent:a", "s2", now + 60_000)).toBe(true);
        expect(await store.isOnline("agent:a")).toBe(true);
      });

      it("reports presence status: offline, online by default, away when set", async () => {
        const now = 1_000_000;
        expect(await store.getPresenceStatus("agent:a")).toBe("offline");
        await store.presenceJoin("agent:a", "s1", now + 10);
        expect(await store.getPresenceStatus("agent:a")).toBe("online");
        await store.setPresenceStatus("agent:a", "away");
        expect(await store.getPresenceStatus("agent:a")).toBe("away");
        await store.setPresenceStatus("agent:a", "online");
        expect(await store.getPresenceStatus("agent:a")).toBe("online");
        await store.presenceSweep(now + 10);
        expect(await store.getPresenceStatus("agent:a")).toBe("offline");
      });
    });

    describe("co-browse consent", () => {
      const record = (conversationId: string, status: CobrowseRecord["status"], extra: Partial<CobrowseRecord> = {}): CobrowseRecord => ({
        conversationId,
        status,
        updatedAt: at(1),
        ...extra,
      });

      it("sets the co-browse state only from an expected status", async () => {
        const c = await started();
        expect(await store.getCobrowse(c.id)).toBeNull();
        expect(await store.setCobrowse(c.id, record(c.id, "active"), ["requested"])).toBe(false);
        expect(await store.setCobrowse(c.id, record(c.id, "requested"), [null, "ended"])).toBe(true);
        expect(await store.setCobrowse(c.id, record(c.id, "requested"), [null, "ended"])).toBe(false);
        const active = record(c.id, "active", { streamerSocketId: "sock-1" });
        expect(await store.setCobrowse(c.id, active, ["requested"])).toBe(true);
        expect(await store.getCobrowse(c.id)).toEqual(active);
        const ended = record(c.id, "ended", { reason: "stopped" });
        expect(await store.setCobrowse(c.id, ended, ["requested", "active"])).toBe(true);
        expect(await store.getCobrowse(c.id)).toEqual(ended);
      });

      it("lets exactly one of concurrent requests move the state", async () => {
        const c = await started();
        const results = await Promise.all(Array.from({ length: 10 }, () => store.setCobrowse(c.id, record(c.id, "requested"), [null, "ended"])));
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });
  });
}
