/**
 * Losing a desk instance under load, with customers on the client's real delivery layer
 * that fail over to the other instance: nothing acknowledged is lost or stored twice.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInstance, type Instance } from "../helpers/instances.js";
import { startRedis, type RedisHandle } from "../helpers/redis.js";
import type { ReliableChat } from "../helpers/reliable-client.js";
import { assignee, audit, auditFigures, customers, eventually, ms, newAgent, report, startConversations, totalAcked, traffic } from "./scenario.js";

const CUSTOMERS = 20;
const MESSAGES = 50;
const AGENTS = 4;

let redis: RedisHandle;
let survivor: Instance;
const cleanup: (() => unknown)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  survivor = await startInstance({ REDIS_URL: redis.url });
});
afterAll(async () => {
  for (const c of cleanup.splice(0)) await c();
  await survivor?.stop();
  await redis?.stop();
});

/**
 * 20 customers on `victim` (falling back to the survivor), 4 agents on the survivor each
 * assigned 5 of them; `fault` hits the victim once 300 of the 1 000 messages are acknowledged.
 */
async function underLoad(victim: Instance, fault: () => Promise<void>) {
  const convs = await startConversations(victim.url, CUSTOMERS);
  const agents = await Promise.all(Array.from({ length: AGENTS }, () => newAgent(survivor.url)));
  const desks = await Promise.all(
    agents.map((agent, i) => assignee([survivor.url], agent, convs.filter((_, k) => k % AGENTS === i))),
  );
  cleanup.push(() => desks.forEach((d) => d.close()));
  const chats = await customers([victim.url, survivor.url], convs);
  cleanup.push(() => chats.forEach((c) => c.close()));

  const sending = traffic(chats, MESSAGES);
  await eventually(() => totalAcked(chats) >= 300, 20_000, "300 acknowledged messages");
  const faultAt = performance.now();
  await fault();
  await sending;
  const allBack = Math.max(...chats.map((c) => c.link.reconnectMs[0] ?? 0));

  for (const chat of chats) expect(chat.link.url).toBe(survivor.url);
  const pairs = convs.map((c, i) => ({ conversationId: c.id, chat: chats[i]! }));
  const result = await audit(survivor.url, agents[0]!.token, pairs);

  // the assignees' views, brought up to date the way the client does after a reconnect
  let fetchedByResync = 0;
  for (const desk of desks) {
    for (const [id, view] of desk.views) {
      const before = view.messages().length;
      await view.feed.sync();
      fetchedByResync += view.messages().length - before;
      expect(view.messages()).toEqual(result.stored.get(id));
    }
  }
  // and the customers' own views
  chats.forEach((chat, i) => expect(chat.messages()).toEqual(result.stored.get(convs[i]!.id)));

  const reconnects = chats.flatMap((c) => c.link.reconnectMs);
  return { chats, result, reconnects, fetchedByResync, faultAt, allBack };
}

function expectNothingLost(result: Awaited<ReturnType<typeof underLoad>>["result"], chats: ReliableChat[]) {
  expect(result.sent).toBe(CUSTOMERS * MESSAGES);
  expect(result.missing).toBe(0);
  expect(result.lost).toBe(0);
  expect(result.duplicated).toBe(0);
  expect(result.gaps).toBe(0);
  for (const [, stored] of result.stored) expect(stored).toHaveLength(MESSAGES + 1);
  expect(chats.every((c) => c.link.reconnectMs.length >= 1)).toBe(true);
}

describe("losing an instance under load", () => {
  it("keeps every acknowledged message exactly once, without gaps, when an instance is SIGKILLed", async () => {
    const victim = await startInstance({ REDIS_URL: redis.url });
    cleanup.push(() => victim.kill());
    const run = await underLoad(victim, () => victim.kill());
    expectNothingLost(run.result, run.chats);
    report("sigkill-instance", {
      customers: CUSTOMERS,
      ...auditFigures(run.result),
      reconnect_ms_p50: ms(run.reconnects).p50,
      reconnect_ms_p99: ms(run.reconnects).p99,
      all_reconnected_ms: Math.round(run.allBack),
      assignee_resync_fetched: run.fetchedByResync,
    });
  }, 90_000);

  it("exits with 0 within 10 s on SIGTERM while its customers carry on elsewhere, losing nothing", async () => {
    const victim = await startInstance({ REDIS_URL: redis.url });
    cleanup.push(() => victim.kill());
    let exit: { code: number | null; ms: number } | undefined;
    const run = await underLoad(victim, async () => {
      const started = performance.now();
      const code = await victim.stop();
      exit = { code, ms: performance.now() - started };
    });
    expect(exit?.code, victim.output()).toBe(0);
    expect(exit!.ms).toBeLessThan(10_000);
    expectNothingLost(run.result, run.chats);
    // a graceful stop answers everything it stored before it hangs up
    expect(run.result.acknowledged).toBe(run.result.sent);
    report("sigterm-instance", {
      customers: CUSTOMERS,
      ...auditFigures(run.result),
      exit_code: exit!.code ?? "signal",
      exit_ms: Math.round(exit!.ms),
      reconnect_ms_p50: ms(run.reconnects).p50,
      reconnect_ms_p99: ms(run.reconnects).p99,
      all_reconnected_ms: Math.round(run.allBack),
      assignee_resync_fetched: run.fetchedByResync,
    });
  }, 90_000);
});
