import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedisStore, type RedisStore } from "../server/store/redis.js";
import { customerMessage, newConversation, storeContract } from "./store.contract.js";
import { startRedis, type RedisHandle } from "./helpers/redis.js";

let redis: RedisHandle;
let prefixes = 0;
/** A fresh key prefix per store, so tests sharing one redis-server never see each other. */
const nextPrefix = () => `t${process.pid}-${++prefixes}:`;

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await redis?.stop();
});

storeContract("redis", () => createRedisStore({ url: redis.url, prefix: nextPrefix() }));

describe("redis store layout", () => {
  const open: RedisStore[] = [];
  const make = async (prefix = nextPrefix()) => {
    const store = await createRedisStore({ url: redis.url, prefix });
    open.push(store);
    return { store, prefix };
  };

  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.disconnect()));
  });

  async function keysOf(store: RedisStore, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    for await (const batch of store.client.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) keys.push(...batch);
    return keys;
  }

  it("keeps every key of a conversation under the conversation's hash tag", async () => {
    const { store, prefix } = await make();
    const record = newConversation();
    await store.createConversation(record, customerMessage("hello", "c1"));
    await store.appendMessage(record.id, customerMessage("again", "c2"), {});
    await store.setCobrowse(record.id, { conversationId: record.id, status: "requested", updatedAt: new Date().toISOString() }, [null]);
    await store.claim(record.id, { id: "agent-1", name: "Grace" }, new Date().toISOString());

    const keys = await keysOf(store, prefix);
    const own = keys.filter((k) => k.includes(record.id));
    expect(own.length).toBeGreaterThanOrEqual(4); // record, messages, clientIds, co-browse
    // Redis Cluster hashes only what sits between the first `{` and the next `}`.
    for (const key of own) expect(key.match(/\{([^}]*)\}/)?.[1]).toBe(record.id);
    // The cross-conversation indexes hold the id as a member, never in their name.
    expect(keys.filter((k) => !k.includes(record.id)).length).toBeGreaterThan(0);
  });

  it("does not list a claimed conversation that a stale index entry puts back in the queue, and drops the entry", async () => {
    const { store, prefix } = await make();
    const record = newConversation();
    await store.createConversation(record, customerMessage("hello", "c1"));
    await store.claim(record.id, { id: "agent-1", name: "Grace" }, new Date().toISOString());
    await store.client.zAdd(`${prefix}queue`, { score: 1, value: record.id });
    await store.client.sAdd(`${prefix}agent:agent-2:open`, record.id);

    expect(await store.listQueue()).toEqual([]);
    expect(await store.listConversations({ status: "queued" })).toEqual([]);
    expect(await store.listConversations({ assigneeId: "agent-2" })).toEqual([]);
    expect(await store.client.zScore(`${prefix}queue`, record.id)).toBeNull();
    expect(await store.client.sIsMember(`${prefix}agent:agent-2:open`, record.id)).toBe(0);
    expect((await store.listConversations({ assigneeId: "agent-1" })).map((c) => c.id)).toEqual([record.id]);
  });

  it("heals the indexes of a claim whose index update never ran", async () => {
    const { store, prefix } = await make();
    const record = newConversation();
    await store.createConversation(record, customerMessage("hello", "c1"));
    await store.claim(record.id, { id: "agent-1", name: "Grace" }, new Date().toISOString());
    // As if the instance died right after the claim script: indexes still say "queued".
    await store.client.zAdd(`${prefix}queue`, { score: 1, value: record.id });
    await store.client.sRem(`${prefix}status:assigned`, record.id);
    await store.client.sRem(`${prefix}agent:agent-1:open`, record.id);

    expect(await store.listQueue()).toEqual([]);
    expect((await store.listConversations({ assigneeId: "agent-1" })).map((c) => c.id)).toEqual([record.id]);
    expect((await store.listConversations({ status: "assigned" })).map((c) => c.id)).toEqual([record.id]);
  });

  it("does not list an index entry whose conversation does not exist", async () => {
    const { store, prefix } = await make();
    await store.client.zAdd(`${prefix}queue`, { score: 1, value: "ghost" });
    expect(await store.listQueue()).toEqual([]);
    expect(await store.client.zCard(`${prefix}queue`)).toBe(0);
  });

  it("returns a gone person from exactly one of two instances sweeping at once", async () => {
    const { store: one, prefix } = await make();
    const { store: two } = await make(prefix);
    const now = 1_000_000;
    const persons = Array.from({ length: 40 }, (_, i) => `agent:p${i}`);
    await Promise.all(persons.map((p, i) => (i % 2 ? one : two).presenceJoin(p, `s${i}`, now + 5)));
    const [a, b] = await Promise.all([one.presenceSweep(now + 5), two.presenceSweep(now + 5)]);
    expect([...a, ...b].sort()).toEqual([...persons].sort());
    expect(await one.client.sCard(`${prefix}presence:online`)).toBe(0);
  });

  it("sees a claim made on one instance from another: only one instance wins", async () => {
    const { store: one, prefix } = await make();
    const { store: two } = await make(prefix);
    const record = newConversation();
    await one.createConversation(record, customerMessage("hello", "c1"));
    const now = new Date().toISOString();
    const results = await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => one.claim(record.id, { id: `a${i}`, name: "A" }, now)),
      ...Array.from({ length: 10 }, (_, i) => two.claim(record.id, { id: `b${i}`, name: "B" }, now)),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(await two.listQueue()).toEqual([]);
  });
});

describe("redis store when Redis goes away", () => {
  it("rejects promptly while Redis is down, reconnects by itself and keeps what was acknowledged", async () => {
    const server = await startRedis({ aof: true, appendfsync: "always" });
    const errors: Error[] = [];
    const store = await createRedisStore({ url: server.url, prefix: "fault:", onError: (e) => errors.push(e) });
    try {
      const record = newConversation();
      await store.createConversation(record, customerMessage("hello", "c1"));
      const sent = await store.appendMessage(record.id, customerMessage("acknowledged", "c2"), {});
      expect(sent.ok).toBe(true);

      await server.kill();
      const started = Date.now();
      await expect(store.ping()).rejects.toThrow();
      await expect(store.appendMessage(record.id, customerMessage("lost", "c3"), {})).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(errors.length).toBeGreaterThan(0);

      await server.restart();
      const deadline = Date.now() + 10_000;
      while (!(await store.ping().then(() => true, () => false))) {
        if (Date.now() > deadline) throw new Error("store did not reconnect");
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await store.listMessages(record.id, 0, 10)).map((m) => m.body)).toEqual(["hello", "acknowledged"]);
      const retried = await store.appendMessage(record.id, customerMessage("lost", "c3"), {});
      expect(retried).toMatchObject({ ok: true, message: { seq: 3 } });
    } finally {
      await store.disconnect();
      await server.stop();
    }
  });
});

describe("redis presence sweep turns", () => {
  it("lets one instance sweep per period when sweeps are exclusive, and still reports each gone person once", async () => {
    const prefix = nextPrefix();
    const [a, b] = await Promise.all([createRedisStore({ url: redis.url, prefix }), createRedisStore({ url: redis.url, prefix })]);
    try {
      await a.presenceJoin("agent:x", "s1", Date.now() - 1);
      const [ra, rb] = await Promise.all([
        a.presenceSweep(Date.now(), { exclusiveForMs: 60_000 }),
        b.presenceSweep(Date.now(), { exclusiveForMs: 60_000 }),
      ]);
      expect([...ra, ...rb]).toEqual(["agent:x"]);
      await b.presenceJoin("agent:y", "s2", Date.now() - 1);
      // within the period nobody else sweeps; a plain sweep still works
      expect(await a.presenceSweep(Date.now(), { exclusiveForMs: 60_000 })).toEqual([]);
      expect(await b.presenceSweep(Date.now())).toEqual(["agent:y"]);
    } finally {
      await Promise.all([a.disconnect(), b.disconnect()]);
    }
  });
});

describe("redis indexes under racing transitions", () => {
  it("never loses a conversation from the queue when a release and a claim race on two instances", async () => {
    const prefix = nextPrefix();
    const [a, b] = await Promise.all([createRedisStore({ url: redis.url, prefix }), createRedisStore({ url: redis.url, prefix })]);
    try {
      for (let round = 0; round < 60; round++) {
        const { conversation } = await a.createConversation(newConversation(), customerMessage("hi"));
        await a.claim(conversation.id, { id: "first", name: "First" }, new Date().toISOString());
        await Promise.all([
          a.release(conversation.id, { role: "agent", agentId: "first", isAdmin: false }, new Date().toISOString()),
          b.claim(conversation.id, { id: "second", name: "Second" }, new Date().toISOString()),
        ]);
        const record = (await a.getConversation(conversation.id))!;
        const queued = (await b.listQueue()).some((c) => c.id === conversation.id);
        const held = (await b.listConversations({ assigneeId: "second", status: "assigned" })).some((c) => c.id === conversation.id);
        expect(queued, `round ${round}`).toBe(record.status === "queued");
        expect(held, `round ${round}`).toBe(record.status === "assigned" && record.assignee?.id === "second");
      }
    } finally {
      await Promise.all([a.disconnect(), b.disconnect()]);
    }
  });
});
