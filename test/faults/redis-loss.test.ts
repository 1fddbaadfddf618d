/**
 * Losing Redis under load: the desk degrades (fast `unavailable`, `/readyz` 503) without
 * a process exiting, and resumes when Redis returns with nothing acknowledged lost.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, call, connectSocket, next, type Client } from "../helpers/desk.js";
import { startInstances, type Instance } from "../helpers/instances.js";
import { startRedis, type RedisHandle } from "../helpers/redis.js";
import type { ReliableChat } from "../helpers/reliable-client.js";
import type { Message } from "../../shared/protocol.js";
import {
  assignee,
  audit,
  auditFigures,
  customers,
  eventually,
  ms,
  newAgent,
  percentile,
  report,
  startConversations,
  totalAcked,
  traffic,
  type AgentSession,
} from "./scenario.js";

let redis: RedisHandle;
let a: Instance;
let b: Instance;
const exits: string[] = [];
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  // every write fsynced before it is acknowledged: what `kill -9` must not lose
  redis = await startRedis({ aof: true, appendfsync: "always" });
  [a, b] = (await startInstances(2, redis.url)) as [Instance, Instance];
  for (const [name, instance] of [["A", a], ["B", b]] as const) {
    void instance.exited.then((code) => exits.push(`${name} exited with ${code}`));
  }
});
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

const readyz = async (instance: Instance) => (await fetch(`${instance.url}/readyz`)).status;

/** Customers on A (falling back to B), their assignee on B. */
async function desk(count: number) {
  const convs = await startConversations(a.url, count);
  const agent = await newAgent(b.url);
  const agentDesk = await assignee([b.url], agent, convs);
  cleanup.push(() => agentDesk.close());
  const chats = await customers([a.url, b.url], convs);
  cleanup.push(() => chats.forEach((c) => c.close()));
  return { convs, agent, chats, pairs: convs.map((c, i) => ({ conversationId: c.id, chat: chats[i]! })) };
}

/** Every chat sends one message every `everyMs` until `stop()`; resolves when all are stored. */
function steadyTraffic(chats: ReliableChat[], everyMs: number) {
  const sends: Promise<Message>[] = [];
  let k = 0;
  const timer = setInterval(() => {
    k++;
    chats.forEach((chat, i) => sends.push(chat.send(`customer ${i} tick ${k}`, 40_000)));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await Promise.all(sends);
    },
  };
}

/** A raw customer socket on A and its assignee's socket on B, for probes outside the clients' retries. */
async function probes(agent: AgentSession) {
  const [conv] = await startConversations(a.url, 1);
  const customer: Client = await connectSocket(a.url, { customerToken: conv!.customerToken });
  const agentSocket: Client = await connectSocket(b.url, { agentToken: agent.token });
  cleanup.push(() => {
    customer.disconnect();
    agentSocket.disconnect();
  });
  expect((await call(agentSocket, "conversation:claim", { conversationId: conv!.id })).ok).toBe(true);
  let n = 0;
  return {
    /** A send from the customer on A; resolves with the ack and how long it took. */
    async send() {
      const clientId = `probe-${++n}`;
      const started = performance.now();
      const res: any = await call(customer, "message:send", { clientId, body: `probe ${n}` });
      return { res, ms: performance.now() - started, clientId };
    },
    /** A message from the customer on A reaches the assignee on B, and back. */
    async crossInstance() {
      const clientId = `probe-${++n}`;
      const atAgent = next(agentSocket, "message:new", (m) => m.clientId === clientId, 5_000);
      expect((await call(customer, "message:send", { clientId, body: "after the outage" })).ok).toBe(true);
      await atAgent;
      const reply = `probe-${++n}`;
      const atCustomer = next(customer, "message:new", (m) => m.clientId === reply, 5_000);
      expect((await call(agentSocket, "message:send", { conversationId: conv!.id, clientId: reply, body: "heard you" })).ok).toBe(true);
      await atCustomer;
    },
  };
}

/** The adapters' subscriber connections as Redis sees them: how many, and how many subscriptions each holds. */
async function adapterSubscribers(): Promise<string[]> {
  const client = createClient({ url: redis.url });
  client.on("error", () => {});
  await client.connect();
  try {
    const list = String(await client.sendCommand(["CLIENT", "LIST", "TYPE", "pubsub"]));
    return list
      .split("\n")
      .filter(Boolean)
      .map((line) => `psub=${/ psub=(\d+)/.exec(line)?.[1]} sub=${/ sub=(\d+)/.exec(line)?.[1]}`)
      .sort();
  } finally {
    await client.close();
  }
}

describe("losing Redis under load", () => {
  it("answers unavailable fast while Redis is down for 5 s, then resumes with every retried send stored and events flowing between instances", async () => {
    const { agent, chats, pairs } = await desk(10);
    const probe = await probes(agent);
    const subscribed = await adapterSubscribers();
    expect(subscribed).toHaveLength(2);
    expect(subscribed.every((x) => x.startsWith("psub=1"))).toBe(true);

    const load = steadyTraffic(chats, 100);
    await eventually(() => totalAcked(chats) >= 50, 10_000, "traffic before the outage");
    const down = performance.now();
    await redis.stop();

    await eventually(async () => (await readyz(a)) === 503 && (await readyz(b)) === 503, 3_000, "/readyz 503 on both");
    const notReadyAfter = performance.now() - down;
    const during = await probe.send();
    expect(during.res.ok).toBe(false);
    expect(during.res.error.code).toBe("unavailable");
    expect(during.ms).toBeLessThan(2_000);

    // the scenario: Redis stays away for 5 s
    await new Promise((r) => setTimeout(r, Math.max(0, 5_000 - (performance.now() - down))));
    const ackedDuringOutage = totalAcked(chats);
    expect((await probe.send()).res.error?.code).toBe("unavailable");
    await redis.restart();
    const up = performance.now();
    await eventually(async () => (await readyz(a)) === 200 && (await readyz(b)) === 200, 10_000, "/readyz 200 on both");
    const readyAfter = performance.now() - up;
    // the adapters' pub/sub connections came back and subscribed again
    await eventually(async () => JSON.stringify(await adapterSubscribers()) === JSON.stringify(subscribed), 5_000, "adapter resubscription");
    await probe.crossInstance();

    await eventually(() => totalAcked(chats) >= ackedDuringOutage + 50, 20_000, "traffic after the outage");
    await load.stop();
    expect(exits).toEqual([]);

    const result = await audit(b.url, agent.token, pairs);
    expect(result.missing).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect(result.gaps).toBe(0);
    const refusals = chats.flatMap((c) => c.link.answers.filter((x) => x.event === "message:send" && x.code === "unavailable"));
    const noAnswer = chats.flatMap((c) => c.link.answers.filter((x) => x.code === "no_answer"));
    expect(refusals.length).toBeGreaterThan(0);
    expect(noAnswer).toEqual([]);
    // fast: typically a few ms, where a hang would have hit the clients' 3 s ack timeout
    // (the bounds leave room for a 2-core machine busy with other test files)
    expect(percentile(refusals.map((x) => x.ms), 95)).toBeLessThan(1_000);
    expect(Math.max(...refusals.map((x) => x.ms))).toBeLessThan(2_500);
    report("redis-down-5s", {
      ...auditFigures(result),
      unavailable_replies: refusals.length,
      probe_unavailable_ms: Math.round(during.ms),
      unavailable_ms_p50: ms(refusals.map((x) => x.ms)).p50,
      unavailable_ms_p99: ms(refusals.map((x) => x.ms)).p99,
      unavailable_ms_max: Math.round(Math.max(...refusals.map((x) => x.ms))),
      no_answer: noAnswer.length,
      readyz_503_after_ms: Math.round(notReadyAfter),
      readyz_200_after_restart_ms: Math.round(readyAfter),
      process_exits: exits.length,
      adapter_subscribers_resubscribed: subscribed.length,
    });
  }, 90_000);

  it("keeps every acknowledged message through kill -9 of Redis with appendfsync always", async () => {
    const { agent, chats, pairs } = await desk(10);
    const sending = traffic(chats, 40, 3, 40_000);
    await eventually(() => totalAcked(chats) >= 150, 20_000, "150 acknowledged messages");
    await redis.kill();
    const ackedBeforeKill = new Set(chats.flatMap((c) => [...c.link.acked.keys()]));
    const killedAt = performance.now();
    await redis.restart();
    const restartMs = performance.now() - killedAt;
    await sending;

    const result = await audit(b.url, agent.token, pairs);
    const stored = new Set([...result.stored.values()].flat().map((m) => m.clientId));
    const lostBeforeKill = [...ackedBeforeKill].filter((id) => !stored.has(id)).length;
    expect(lostBeforeKill).toBe(0);
    expect(result.missing).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.duplicated).toBe(0);
    expect(result.gaps).toBe(0);
    expect(exits).toEqual([]);
    report("redis-kill9-appendfsync-always", {
      ...auditFigures(result),
      acked_before_kill: ackedBeforeKill.size,
      lost_of_acked_before_kill: lostBeforeKill,
      redis_restart_ms: Math.round(restartMs),
      send_ms_p99: Math.round(percentile(chats.flatMap((c) => c.link.answers.filter((x) => x.ok && x.event === "message:send").map((x) => x.ms)), 99)),
    });
  }, 90_000);
});
