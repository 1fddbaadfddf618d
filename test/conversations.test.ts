import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentSocket,
  api,
  call,
  connectSocket,
  customerSocket,
  login,
  newAgent,
  next,
  record,
  settle,
  startConversation,
  startDesk,
  type TestDesk,
} from "./helpers/desk.js";

let t: TestDesk;
beforeAll(async () => {
  t = await startDesk();
});
afterAll(() => t.close());

describe("queue and claims", () => {
  it("shows a conversation started over HTTP in every agent's queue at once", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const seen = next(sa, "conversation:updated", (c) => c.customer.name === "Queue Watcher");
    const { conversation } = await startConversation(t, { name: "Queue Watcher", topic: "Billing" });
    const update = await seen;
    expect(update).toMatchObject({ id: conversation.id, status: "queued", topic: "Billing", lastSeq: 1, assignee: null });
    const list = await call(sa, "queue:list", {});
    expect(list.ok).toBe(true);
    expect((list as any).conversations.map((c: any) => c.id)).toContain(conversation.id);
  });

  it("lists the queue oldest first, without claimed or closed conversations", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const first = await startConversation(t);
    const second = await startConversation(t);
    const third = await startConversation(t);
    await call(sa, "conversation:claim", { conversationId: second.conversation.id });
    const cust3 = await customerSocket(t, third.customerToken);
    await call(cust3, "conversation:close", {});
    const res: any = await call(sa, "queue:list", {});
    const ids: string[] = res.conversations.map((c: any) => c.id);
    expect(ids.indexOf(first.conversation.id)).toBeGreaterThanOrEqual(0);
    expect(ids).not.toContain(second.conversation.id);
    expect(ids).not.toContain(third.conversation.id);
    const created = res.conversations.map((c: any) => c.createdAt);
    expect([...created].sort()).toEqual(created);
  });

  it("lets exactly one of several agents claiming at once win; the others get already_claimed", async () => {
    const agents = await Promise.all([newAgent(t), newAgent(t), newAgent(t), newAgent(t)]);
    const sockets = await Promise.all(agents.map((a) => agentSocket(t, a.token)));
    for (let round = 0; round < 10; round++) {
      const { conversation } = await startConversation(t);
      const results = await Promise.all(sockets.map((s) => call(s, "conversation:claim", { conversationId: conversation.id })));
      const winners = results.filter((r) => r.ok);
      expect(winners).toHaveLength(1);
      for (const r of results.filter((r) => !r.ok)) expect((r as any).error.code).toBe("already_claimed");
    }
  });

  it("tells the customer and all agents about a claim, and puts the assignee in the room", async () => {
    const a = await newAgent(t, "Claire");
    const observer = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const so = await agentSocket(t, observer.token);
    const { conversation, customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    const custSeen = next(cust, "conversation:updated", (c) => c.status === "assigned");
    const agentPresence = next(cust, "presence", (p) => p.role === "agent");
    const observerSeen = next(so, "conversation:updated", (c) => c.id === conversation.id && c.status === "assigned");
    const ack: any = await call(sa, "conversation:claim", { conversationId: conversation.id });
    expect(ack.ok).toBe(true);
    expect(ack.conversation).toMatchObject({ id: conversation.id, status: "assigned", assignee: { id: a.agent.id, name: "Claire" } });
    expect((await custSeen).assignee?.name).toBe("Claire");
    expect(await agentPresence).toMatchObject({ role: "agent", id: a.agent.id, name: "Claire", status: "online", conversationId: conversation.id });
    expect((await observerSeen).assignee?.id).toBe(a.agent.id);
    // the assignee now receives the customer's messages
    const got = next(sa, "message:new", (m) => m.conversationId === conversation.id);
    await call(cust, "message:send", { clientId: "after-claim", body: "are you there?" });
    expect((await got).body).toBe("are you there?");
  });

  it("puts a released conversation back in the queue and only the assignee may release", async () => {
    const a = await newAgent(t);
    const b = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const sb = await agentSocket(t, b.token);
    const { conversation, customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    await call(sa, "conversation:claim", { conversationId: conversation.id });
    const denied: any = await call(sb, "conversation:release", { conversationId: conversation.id });
    expect(denied.error.code).toBe("forbidden");
    const queued = next(cust, "conversation:updated", (c) => c.status === "queued");
    const position = next(cust, "queue:position");
    const res: any = await call(sa, "conversation:release", { conversationId: conversation.id });
    expect(res.conversation).toMatchObject({ status: "queued", assignee: null });
    await queued;
    expect((await position).position).toBeGreaterThanOrEqual(1);
    // after release the former assignee no longer gets the customer's messages
    const seen = record(sa, "message:new");
    await call(cust, "message:send", { clientId: "after-release", body: "hello?" });
    await settle(sa);
    expect(seen.filter((m) => m.conversationId === conversation.id)).toHaveLength(0);
  });

  it("closes a conversation for both sides, from the customer or the assignee", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const one = await startConversation(t);
    const c1 = await customerSocket(t, one.customerToken);
    await call(sa, "conversation:claim", { conversationId: one.conversation.id });
    const agentSees = next(sa, "conversation:updated", (c) => c.id === one.conversation.id && c.status === "closed");
    const ack: any = await call(c1, "conversation:close", {});
    expect(ack.conversation.status).toBe("closed");
    await agentSees;
    const again: any = await call(c1, "conversation:close", {});
    expect(again.error.code).toBe("conversation_closed");

    const two = await startConversation(t);
    const c2 = await customerSocket(t, two.customerToken);
    await call(sa, "conversation:claim", { conversationId: two.conversation.id });
    const customerSees = next(c2, "conversation:updated", (c) => c.status === "closed");
    expect((await call(sa, "conversation:close", { conversationId: two.conversation.id })).ok).toBe(true);
    await customerSees;
    const late: any = await call(c2, "message:send", { clientId: "late", body: "one more thing" });
    expect(late.error.code).toBe("conversation_closed");
  });

  it("refuses close and release from an agent who does not hold the conversation, but an admin may", async () => {
    const a = await newAgent(t);
    const b = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const sb = await agentSocket(t, b.token);
    const admin = await agentSocket(t, (await login(t)).token);
    const { conversation } = await startConversation(t);
    await call(sa, "conversation:claim", { conversationId: conversation.id });
    expect(((await call(sb, "conversation:close", { conversationId: conversation.id })) as any).error.code).toBe("forbidden");
    expect((await call(admin, "conversation:close", { conversationId: conversation.id })).ok).toBe(true);
  });

  it("answers not_found for a conversation that does not exist", async () => {
    const sa = await agentSocket(t, (await newAgent(t)).token);
    for (const event of ["conversation:claim", "conversation:release", "conversation:close", "history"] as const) {
      const res: any = await call(sa, event, { conversationId: "doesnotexist" });
      expect(res.error.code, event).toBe("not_found");
    }
  });

  it("pushes queue positions to every waiting customer whenever the queue changes", async () => {
    const t2 = await startDesk();
    try {
      const sa = await agentSocket(t2, (await newAgent(t2)).token);
      const one = await startConversation(t2);
      const c1 = await customerSocket(t2, one.customerToken);
      const two = await startConversation(t2);
      const c2 = await customerSocket(t2, two.customerToken);
      const c2Moves = next(c2, "queue:position", (p) => p.position === 1);
      await call(sa, "conversation:claim", { conversationId: one.conversation.id });
      expect(await c2Moves).toMatchObject({ position: 1 });
      // a newly connected waiting customer is told its place straight away
      const three = await startConversation(t2);
      const pos = new Promise<any>((resolve) =>
        connectSocket(t2, { customerToken: three.customerToken }, {}, (s) => s.once("queue:position", resolve)),
      );
      expect((await pos).position).toBe(2);
      expect(c1.connected).toBe(true);
    } finally {
      await t2.close();
    }
  });

  it("lists an agent's own conversations and filters by status", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const { conversation } = await startConversation(t);
    await call(sa, "conversation:claim", { conversationId: conversation.id });
    const mine: any = await call(sa, "conversation:list", { mine: true });
    expect(mine.conversations.map((c: any) => c.id)).toEqual([conversation.id]);
    const closed: any = await call(sa, "conversation:list", { status: "closed" });
    for (const c of closed.conversations) expect(c.status).toBe("closed");
    const bad: any = await call(sa, "conversation:list", { status: "bogus" } as any);
    expect(bad.error.code).toBe("invalid_payload");
  });

  it("refuses agent events from a customer socket", async () => {
    const { conversation, customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    for (const event of ["queue:list", "conversation:list", "conversation:claim", "conversation:release", "presence:set"] as const) {
      const res: any = await call(cust, event, { conversationId: conversation.id, status: "online" } as any);
      expect(res.ok, event).toBe(false);
      expect(res.error.code, event).toBe("forbidden");
    }
    const check = await api(t.url, `/api/conversations/${conversation.id}/messages`, { token: customerToken });
    expect(check.body.conversation.status).toBe("queued");
  });
});

describe("queue previews", () => {
  it("updates every agent's queue entry when a waiting customer writes again", async () => {
    const sa = await agentSocket(t, (await newAgent(t)).token);
    const { conversation, customerToken } = await startConversation(t, { message: "first words" });
    const cust = await customerSocket(t, customerToken);
    const updated = next(sa, "conversation:updated", (c) => c.id === conversation.id && c.lastSeq === 2);
    await call(cust, "message:send", { clientId: "more", body: "and some more words" });
    expect(await updated).toMatchObject({ status: "queued", preview: "and some more words" });
  });
});
