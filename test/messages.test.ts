import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentSocket,
  api,
  call,
  clientId,
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

/** A customer and an assignee in one claimed conversation. */
async function pair() {
  const agent = await newAgent(t, "Sam");
  const sa = await agentSocket(t, agent.token);
  const { conversation, customerToken } = await startConversation(t, { name: "Ada" });
  const cust = await customerSocket(t, customerToken);
  await call(sa, "conversation:claim", { conversationId: conversation.id });
  return { agent, sa, cust, conversation, customerToken };
}

describe("messages", () => {
  it("acks a customer's message with its stored seq and delivers it to the assignee", async () => {
    const { sa, cust, conversation } = await pair();
    const arrives = next(sa, "message:new", (m) => m.conversationId === conversation.id);
    const ack: any = await call(cust, "message:send", { clientId: "m1", body: "My order is late" });
    expect(ack.ok).toBe(true);
    expect(ack.message).toMatchObject({ seq: 2, clientId: "m1", body: "My order is late", author: { role: "customer", name: "Ada" } });
    expect(await arrives).toEqual(ack.message);
  });

  it("delivers the assignee's message to the customer, and the sender's other sockets too", async () => {
    const { agent, sa, cust, conversation } = await pair();
    const secondTab = await agentSocket(t, agent.token);
    const toCustomer = next(cust, "message:new");
    const toTab = next(secondTab, "message:new");
    const ack: any = await call(sa, "message:send", { conversationId: conversation.id, clientId: "a1", body: "Let me check" });
    expect(ack.message).toMatchObject({ seq: 2, author: { role: "agent", id: agent.agent.id, name: "Sam" } });
    expect((await toCustomer).body).toBe("Let me check");
    expect((await toTab).seq).toBe(2);
  });

  it("treats a retry with the same clientId as the same message: same ack, nothing broadcast again", async () => {
    const { sa, cust } = await pair();
    const seen = record(sa, "message:new");
    const first: any = await call(cust, "message:send", { clientId: "retry-me", body: "once" });
    const retry: any = await call(cust, "message:send", { clientId: "retry-me", body: "once" });
    expect(retry.message).toEqual(first.message);
    const nextOne: any = await call(cust, "message:send", { clientId: clientId(), body: "twice" });
    expect(nextOne.message.seq).toBe(first.message.seq + 1);
    await settle(sa);
    expect(seen.map((m) => m.body)).toEqual(["once", "twice"]);
  });

  it("numbers messages 1, 2, 3 … with no gaps even when both sides send at once", async () => {
    const { sa, cust, conversation } = await pair();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        i % 2
          ? call(cust, "message:send", { clientId: `c${i}`, body: `c${i}` })
          : call(sa, "message:send", { conversationId: conversation.id, clientId: `a${i}`, body: `a${i}` }),
      ),
    );
    const res: any = await call(cust, "history", {});
    expect(res.messages.map((m: any) => m.seq)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    expect(res.conversation.lastSeq).toBe(31);
  });

  it("returns exactly the missed messages from history after a given seq", async () => {
    const { sa, cust, conversation } = await pair();
    for (let i = 0; i < 5; i++) await call(sa, "message:send", { conversationId: conversation.id, clientId: `h${i}`, body: `n${i}` });
    const res: any = await call(cust, "history", { afterSeq: 3 });
    expect(res.messages.map((m: any) => [m.seq, m.body])).toEqual([[4, "n2"], [5, "n3"], [6, "n4"]]);
    const agentView: any = await call(sa, "history", { conversationId: conversation.id, afterSeq: 5 });
    expect(agentView.messages.map((m: any) => m.seq)).toEqual([6]);
  });

  it("ignores a conversationId sent by a customer and writes to its own conversation", async () => {
    const victim = await pair();
    const { cust, conversation } = await pair();
    const victimSeen = record(victim.sa, "message:new");
    const ack: any = await call(cust, "message:send", { conversationId: victim.conversation.id, clientId: "x", body: "sneaky" } as any);
    expect(ack.message.conversationId).toBe(conversation.id);
    const hist: any = await call(cust, "history", { conversationId: victim.conversation.id } as any);
    expect(hist.conversation.id).toBe(conversation.id);
    await settle(victim.sa);
    expect(victimSeen).toHaveLength(0);
  });

  it("lets a customer keep writing while queued, but lets no agent but the assignee write", async () => {
    const { conversation, customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    const queuedAck: any = await call(cust, "message:send", { clientId: "q1", body: "still waiting" });
    expect(queuedAck.message.seq).toBe(2);
    const other = await agentSocket(t, (await newAgent(t)).token);
    const res: any = await call(other, "message:send", { conversationId: conversation.id, clientId: "z", body: "hi" });
    expect(res.error.code).toBe("forbidden");
    const hist: any = await call(cust, "history", {});
    expect(hist.messages).toHaveLength(2);
  });

  it("lets any agent read any conversation to preview it, over socket and HTTP", async () => {
    const { conversation, customerToken } = await startConversation(t, { message: "preview me" });
    const other = await newAgent(t);
    const so = await agentSocket(t, other.token);
    const res: any = await call(so, "history", { conversationId: conversation.id });
    expect(res.messages[0]).toMatchObject({ seq: 1, body: "preview me" });
    const http = await api(t.url, `/api/conversations/${conversation.id}/messages?afterSeq=0`, { token: other.token });
    expect(http.status).toBe(200);
    expect(http.body.messages).toHaveLength(1);
    const own = await api(t.url, `/api/conversations/${conversation.id}/messages`, { token: customerToken });
    expect(own.body.conversation.id).toBe(conversation.id);
    expect(own.body.conversation).not.toHaveProperty("customerTokenHash");
  });

  it("refuses malformed payloads with invalid_payload and stores nothing", async () => {
    const { cust, sa, conversation } = await pair();
    const bad = [
      {},
      { clientId: "x" },
      { clientId: "x", body: "" },
      { clientId: "x", body: "   " },
      { clientId: "x", body: "a".repeat(4001) },
      { clientId: 5, body: "hi" },
      { clientId: "x", body: { toString: "hi" } },
      "just a string",
      null,
      [1, 2],
    ];
    for (const payload of bad) {
      const res: any = await call(cust, "message:send", payload as any);
      expect(res.ok, JSON.stringify(payload)).toBe(false);
      expect(res.error.code).toBe("invalid_payload");
    }
    const agentBad: any = await call(sa, "message:send", { clientId: "x", body: "no conversation id" } as any);
    expect(agentBad.error.code).toBe("invalid_payload");
    const hist: any = await call(sa, "history", { conversationId: conversation.id });
    expect(hist.messages).toHaveLength(1);
  });

  it("survives an event sent without an ack callback and still stores and broadcasts", async () => {
    const { sa, cust } = await pair();
    const got = next(sa, "message:new");
    cust.emit("message:send", { clientId: "no-ack", body: "fire and forget" });
    expect((await got).body).toBe("fire and forget");
  });

  it("lets an admin write in a conversation it does not hold", async () => {
    const { cust, conversation } = await pair();
    const admin = await agentSocket(t, (await login(t)).token);
    const got = next(cust, "message:new");
    const ack: any = await call(admin, "message:send", { conversationId: conversation.id, clientId: "adm", body: "Supervisor here" });
    expect(ack.ok).toBe(true);
    expect((await got).author.name).toBe("Admin");
  });
});

describe("typing", () => {
  it("relays typing to the other side but never back to the sender", async () => {
    const { sa, cust, conversation } = await pair();
    const senderSeen = record(cust, "typing");
    const toAgent = next(sa, "typing");
    expect((await call(cust, "typing", { isTyping: true })).ok).toBe(true);
    expect(await toAgent).toEqual({ conversationId: conversation.id, author: { role: "customer", name: "Ada" }, isTyping: true });
    const toCustomer = next(cust, "typing");
    await call(sa, "typing", { conversationId: conversation.id, isTyping: true });
    expect(await toCustomer).toMatchObject({ author: { role: "agent", name: "Sam" }, isTyping: true });
    await settle(cust);
    expect(senderSeen.filter((e) => e.author.role === "customer")).toHaveLength(0);
  });

  it("refuses typing from an agent who does not hold the conversation, and tells nobody", async () => {
    const { cust, conversation } = await pair();
    const seen = record(cust, "typing");
    const stranger = await agentSocket(t, (await newAgent(t)).token);
    const res: any = await call(stranger, "typing", { conversationId: conversation.id, isTyping: true });
    expect(res.error.code).toBe("forbidden");
    await settle(cust);
    expect(seen).toHaveLength(0);
  });

  it("never stores typing", async () => {
    const { cust } = await pair();
    await call(cust, "typing", { isTyping: true });
    const hist: any = await call(cust, "history", {});
    expect(hist.messages).toHaveLength(1);
  });
});

