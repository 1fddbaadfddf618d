/** Two real server processes on one Redis act as one desk. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, call, connectSocket, login, next, record, type Client } from "./helpers/desk.js";
import { startInstances, type Instance } from "./helpers/instances.js";
import { startRedis, type RedisHandle } from "./helpers/redis.js";

let redis: RedisHandle;
let a: Instance;
let b: Instance;
const sockets: Client[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const connect = async (url: string, auth: Record<string, unknown>) => {
  const s = await connectSocket(url, auth);
  sockets.push(s);
  return s;
};

let n = 0;
async function agentOn(instance: Instance, name = `Agent ${++n}`) {
  const admin = await api(instance.url, "/api/auth/login", { body: { email: "admin@example.com", password: "admin-password-1" } });
  const email = `mi-${++n}-${Date.now()}@example.com`;
  const created = await api(instance.url, "/api/agents", { body: { email, name, password: "agent-password-1" }, token: admin.body.token });
  expect(created.status).toBe(201);
  const session = await api(instance.url, "/api/auth/login", { body: { email, password: "agent-password-1" } });
  return { id: created.body.agent.id as string, token: session.body.token as string, name };
}

async function startOn(instance: Instance, name = `Customer ${++n}`) {
  const res = await api(instance.url, "/api/conversations", { body: { name, message: "Hello from the other side" } });
  expect(res.status).toBe(201);
  return res.body as { conversation: { id: string }; customerToken: string };
}

describe.each(["classic", "sharded"])("two instances, one Redis, %s adapter", (adapter) => {
  beforeAll(async () => {
    [a, b] = (await startInstances(2, redis.url, { DESK_REDIS_ADAPTER: adapter, DESK_REDIS_PREFIX: `${adapter}:` })) as [Instance, Instance];
  });
  afterAll(async () => {
    for (const s of sockets.splice(0)) s.disconnect();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("shows a conversation started on A live in the queue of an agent connected to B", async () => {
    const agent = await agentOn(b);
    const sb = await connect(b.url, { agentToken: agent.token });
    const seen = next(sb, "conversation:updated", (c) => c.customer.name === "Cross Queue");
    const { conversation } = await startOn(a, "Cross Queue");
    expect(await seen).toMatchObject({ id: conversation.id, status: "queued" });
    const queue: any = await call(sb, "queue:list", {});
    expect(queue.conversations.map((c: any) => c.id)).toContain(conversation.id);
  });

  it("gives exactly one winner in each of 100 rounds of two agents on different instances claiming at once", async () => {
    const one = await connect(a.url, { agentToken: (await agentOn(a)).token });
    const two = await connect(b.url, { agentToken: (await agentOn(b)).token });
    const wins = { one: 0, two: 0 };
    for (let round = 0; round < 100; round++) {
      const { conversation } = await startOn(round % 2 ? a : b);
      const [r1, r2] = await Promise.all([
        call(one, "conversation:claim", { conversationId: conversation.id }),
        call(two, "conversation:claim", { conversationId: conversation.id }),
      ]);
      expect([r1.ok, r2.ok].filter(Boolean)).toHaveLength(1);
      const loser: any = r1.ok ? r2 : r1;
      expect(loser.error.code).toBe("already_claimed");
      if (r1.ok) wins.one++;
      else wins.two++;
    }
    expect(wins.one + wins.two).toBe(100);
  });

  it("lets a customer on A and the assignee on B exchange messages, typing and presence", async () => {
    const agent = await agentOn(b, "Bea on B");
    const sb = await connect(b.url, { agentToken: agent.token });
    const { conversation, customerToken } = await startOn(a, "Carl on A");
    const ca = await connect(a.url, { customerToken });
    const assigned = next(ca, "conversation:updated", (c) => c.status === "assigned");
    const agentPresence = next(ca, "presence", (p) => p.role === "agent" && p.id === agent.id);
    expect((await call(sb, "conversation:claim", { conversationId: conversation.id })).ok).toBe(true);
    expect((await assigned).assignee?.name).toBe("Bea on B");
    expect((await agentPresence).status).toBe("online");

    const toAgent = next(sb, "message:new", (m) => m.conversationId === conversation.id && m.seq === 2);
    const ack: any = await call(ca, "message:send", { clientId: "x-1", body: "from A" });
    expect(await toAgent).toEqual(ack.message);
    const toCustomer = next(ca, "message:new", (m) => m.seq === 3);
    await call(sb, "message:send", { conversationId: conversation.id, clientId: "y-1", body: "from B" });
    expect((await toCustomer).body).toBe("from B");

    const typingAtAgent = next(sb, "typing", (e) => e.conversationId === conversation.id);
    await call(ca, "typing", { isTyping: true });
    expect((await typingAtAgent).author).toEqual({ role: "customer", name: "Carl on A" });
    const typingAtCustomer = next(ca, "typing");
    await call(sb, "typing", { conversationId: conversation.id, isTyping: true });
    expect((await typingAtCustomer).author.role).toBe("agent");

    const away = next(ca, "presence", (p) => p.status === "away");
    await call(sb, "presence:set", { status: "away" });
    expect(await away).toMatchObject({ id: agent.id, conversationId: conversation.id });

    const customerGone = next(sb, "presence", (p) => p.role === "customer" && p.conversationId === conversation.id && p.status === "offline");
    ca.disconnect();
    await customerGone;
  });

  it("keeps an agent with a tab on A and a tab on B online until both close, then offline for everyone", async () => {
    const watcherA = await connect(a.url, { agentToken: (await agentOn(a)).token });
    const watcherB = await connect(b.url, { agentToken: (await agentOn(b)).token });
    const agent = await agentOn(a, "Two Instances");
    const statusesA = record(watcherA, "presence");
    const online = next(watcherB, "presence", (p) => p.id === agent.id && p.status === "online");
    const tabA = await connect(a.url, { agentToken: agent.token });
    const tabB = await connect(b.url, { agentToken: agent.token });
    await online;
    tabA.disconnect();
    // the other tab keeps the agent online well past the grace period, on both instances
    const other = await agentOn(b);
    const otherTab = await connect(b.url, { agentToken: other.token });
    const otherGone = next(watcherA, "presence", (p) => p.id === other.id && p.status === "offline");
    otherTab.disconnect();
    await otherGone;
    const list = await api(b.url, "/api/agents", { token: agent.token });
    expect(list.body.agents.find((x: any) => x.id === agent.id).presence).toBe("online");
    const offA = next(watcherA, "presence", (p) => p.id === agent.id && p.status === "offline");
    const offB = next(watcherB, "presence", (p) => p.id === agent.id && p.status === "offline");
    tabB.disconnect();
    await Promise.all([offA, offB]);
    expect(statusesA.filter((p) => p.id === agent.id).map((p) => p.status)).toEqual(["online", "offline"]);
  });

  it("shows an agent offline to others when its instance dies without a goodbye", async () => {
    const c = (await startInstances(1, redis.url, { DESK_REDIS_ADAPTER: adapter, DESK_REDIS_PREFIX: `${adapter}:` }))[0]!;
    try {
      const watcher = await connect(a.url, { agentToken: (await agentOn(a)).token });
      const agent = await agentOn(c, "Doomed");
      const online = next(watcher, "presence", (p) => p.id === agent.id && p.status === "online");
      const tab = await connect(c.url, { agentToken: agent.token });
      await online;
      const offline = next(watcher, "presence", (p) => p.id === agent.id && p.status === "offline", 10_000);
      const killedAt = Date.now();
      await c.kill();
      await offline;
      // TTL in this test is 1.5 s; SPEC's bound is 30 s with the defaults
      expect(Date.now() - killedAt).toBeLessThan(5_000);
      tab.disconnect();
    } finally {
      await c.kill();
    }
  });

  it("serves login and history from either instance with the same session", async () => {
    const agent = await agentOn(a);
    const { conversation } = await startOn(b);
    const viaA = await api(a.url, `/api/conversations/${conversation.id}/messages`, { token: agent.token });
    const viaB = await api(b.url, `/api/conversations/${conversation.id}/messages`, { token: agent.token });
    expect(viaA.status).toBe(200);
    expect(viaB.body).toEqual(viaA.body);
    expect((await login({ url: b.url } as any)).agent.role).toBe("admin");
  });
});
