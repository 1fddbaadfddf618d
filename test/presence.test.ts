import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSocket, api, call, connectSocket, customerSocket, newAgent, next, record, settle, startConversation, startDesk, type TestDesk } from "./helpers/desk.js";

let t: TestDesk;
beforeAll(async () => {
  t = await startDesk();
});
afterAll(() => t.close());

describe("presence", () => {
  it("keeps an agent with two tabs online until both close, then tells everyone offline once", async () => {
    const watcher = await agentSocket(t, (await newAgent(t)).token);
    const a = await newAgent(t, "Two Tabs");
    const seen = record(watcher, "presence");
    const online = next(watcher, "presence", (p) => p.id === a.agent.id && p.status === "online");
    const tab1 = await agentSocket(t, a.token);
    const tab2 = await agentSocket(t, a.token);
    expect(await online).toMatchObject({ role: "agent", name: "Two Tabs", status: "online" });
    tab1.disconnect();
    // still online: the other tab is open
    const list = await api(t.url, "/api/agents", { token: a.token });
    expect(list.body.agents.find((x: any) => x.id === a.agent.id).presence).toBe("online");
    const offline = next(watcher, "presence", (p) => p.id === a.agent.id && p.status === "offline");
    const closedAt = Date.now();
    tab2.disconnect();
    await offline;
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(t.config.presenceGraceMs - 50);
    await settle(watcher);
    const mine = seen.filter((p) => p.id === a.agent.id).map((p) => p.status);
    expect(mine).toEqual(["online", "offline"]);
  });

  it("does not flap offline when a tab reloads within the grace period", async () => {
    const watcher = await agentSocket(t, (await newAgent(t)).token);
    const a = await newAgent(t);
    const tab = await agentSocket(t, a.token);
    await settle(watcher);
    const seen = record(watcher, "presence");
    tab.disconnect();
    const reloaded = await agentSocket(t, a.token);
    // wait past the grace and a few sweeps, by awaiting another person's offline
    const other = await newAgent(t);
    const otherTab = await agentSocket(t, other.token);
    const otherGone = next(watcher, "presence", (p) => p.id === other.agent.id && p.status === "offline");
    otherTab.disconnect();
    await otherGone;
    expect(seen.filter((p) => p.id === a.agent.id)).toEqual([]);
    expect(reloaded.connected).toBe(true);
  });

  it("broadcasts the agent's away switch to agents and to its customers", async () => {
    const watcher = await agentSocket(t, (await newAgent(t)).token);
    const a = await newAgent(t, "Away Agent");
    const sa = await agentSocket(t, a.token);
    const { conversation, customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    await call(sa, "conversation:claim", { conversationId: conversation.id });
    const toWatcher = next(watcher, "presence", (p) => p.id === a.agent.id && p.status === "away");
    const toCustomer = next(cust, "presence", (p) => p.status === "away");
    expect((await call(sa, "presence:set", { status: "away" })).ok).toBe(true);
    await toWatcher;
    expect(await toCustomer).toMatchObject({ role: "agent", id: a.agent.id, name: "Away Agent", conversationId: conversation.id });
    const bad: any = await call(sa, "presence:set", { status: "offline" } as any);
    expect(bad.error.code).toBe("invalid_payload");
    const me = await api(t.url, "/api/me", { token: a.token });
    expect(me.body.agent.presence).toBe("away");
  });

  it("shows the customer online while connected and offline after it leaves", async () => {
    const watcher = await agentSocket(t, (await newAgent(t)).token);
    const { conversation, customerToken } = await startConversation(t, { name: "Online Olga" });
    const cameOnline = next(watcher, "conversation:updated", (c) => c.id === conversation.id && c.customer.online);
    const presence = next(watcher, "presence", (p) => p.role === "customer" && p.conversationId === conversation.id && p.status === "online");
    const cust = await customerSocket(t, customerToken);
    await cameOnline;
    expect(await presence).toMatchObject({ name: "Online Olga", id: conversation.id });
    const wentOffline = next(watcher, "conversation:updated", (c) => c.id === conversation.id && !c.customer.online);
    cust.disconnect();
    await wentOffline;
  });
});

describe("presence on reconnect", () => {
  it("tells a reconnecting customer its assignee's current presence at once", async () => {
    const a = await newAgent(t, "Reliable Rita");
    const sa = await agentSocket(t, a.token);
    const { conversation, customerToken } = await startConversation(t);
    await call(sa, "conversation:claim", { conversationId: conversation.id });
    await call(sa, "presence:set", { status: "away" });
    const told = new Promise<any>((resolve) => connectSocket(t, { customerToken }, {}, (s) => s.once("presence", resolve)));
    expect(await told).toMatchObject({ role: "agent", id: a.agent.id, name: "Reliable Rita", status: "away", conversationId: conversation.id });
  });
});
