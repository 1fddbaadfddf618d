/**
 * A customer whose network goes away for 30 s while the agent keeps writing: on
 * reconnect the client's delivery layer shows exactly what was missed, in order, once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInstances, type Instance } from "../helpers/instances.js";
import { startRedis, type RedisHandle } from "../helpers/redis.js";
import { ReliableChat } from "../helpers/reliable-client.js";
import { assignee, newAgent, report, startConversations, storedMessages } from "./scenario.js";

const OFFLINE_MS = 30_000;
const MISSED = 20;

let redis: RedisHandle;
let a: Instance;
let b: Instance;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  [a, b] = (await startInstances(2, redis.url)) as [Instance, Instance];
});
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
});

describe("a customer offline for a while", () => {
  it(`shows exactly the ${MISSED} messages the agent sent during ${OFFLINE_MS / 1000} s offline, in order, once`, async () => {
    const [conv] = await startConversations(b.url, 1);
    const agent = await newAgent(a.url);
    const agentDesk = await assignee([a.url], agent, [conv!]);
    cleanup.push(() => agentDesk.close());
    const agentView = agentDesk.views.get(conv!.id)!;
    const customer = new ReliableChat({
      urls: [b.url, a.url],
      auth: { customerToken: conv!.customerToken },
      conversationId: null,
      self: { role: "customer", name: conv!.name },
      keepSnapshots: true,
    });
    cleanup.push(() => customer.close());
    await customer.start();
    await customer.send("are you there?");
    const heldBefore = customer.messages().length;

    customer.link.goOffline();
    const offlineAt = performance.now();
    const shownWhileOffline = customer.snapshots.length;
    // the agent writes across the whole 30 s
    const bodies: string[] = [];
    for (let i = 0; i < MISSED; i++) {
      const due = offlineAt + (i * OFFLINE_MS) / MISSED;
      await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      bodies.push(`answer ${i + 1} of ${MISSED}`);
      await agentView.send(bodies[i]!);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, offlineAt + OFFLINE_MS - performance.now())));
    expect(customer.snapshots.length).toBe(shownWhileOffline);
    expect(customer.messages()).toHaveLength(heldBefore);

    const backAt = performance.now();
    customer.link.connect();
    await customer.until(() => customer.messages().length === heldBefore + MISSED, 10_000, "the missed messages");
    const caughtUpMs = performance.now() - backAt;

    // what the customer shows: the earlier lines, then the 20, in order, once
    const lines = customer.feed.snapshot().lines;
    const missed = lines.slice(heldBefore);
    expect(missed.map((l) => l.body)).toEqual(bodies);
    expect(missed.every((l) => l.author.role === "agent" && l.state === "sent")).toBe(true);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    // no snapshot ever showed a line twice, or one of the 20 out of order
    let shownTwice = 0;
    let reordered = 0;
    for (const snapshot of customer.snapshots) {
      const keys = snapshot.lines.map((l) => l.key);
      shownTwice += keys.length - new Set(keys).size;
      const shown = snapshot.lines.map((l) => l.body).filter((body) => bodies.includes(body));
      if (shown.join("\n") !== bodies.slice(0, shown.length).join("\n")) reordered++;
    }
    expect(shownTwice).toBe(0);
    expect(reordered).toBe(0);
    expect(customer.messages()).toEqual(await storedMessages(a.url, agent.token, conv!.id));

    report("customer-offline-30s", {
      offline_ms: Math.round(backAt - offlineAt),
      agent_sent: MISSED,
      shown: missed.length,
      duplicated: shownTwice,
      reordered,
      reconnect_ms: Math.round(customer.link.reconnectMs.at(-1) ?? NaN),
      caught_up_ms: Math.round(caughtUpMs),
    });
  }, 75_000);
});
