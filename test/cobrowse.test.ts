import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../server/log.js";
import { createRedisAdapter, type AdapterKind, type RedisAdapterHandle } from "../server/realtime/adapter.js";
import { createRedisStore, type RedisStore } from "../server/store/redis.js";
import { LIMITS } from "../shared/protocol.js";
import {
  agentSocket,
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
  type Client,
  type TestDesk,
} from "./helpers/desk.js";
import { startRedis, type RedisHandle } from "./helpers/redis.js";

let t: TestDesk;
beforeAll(async () => {
  t = await startDesk();
});
afterAll(() => t.close());

const rrwebLike = (n = 1) => Array.from({ length: n }, (_, i) => ({ type: 3, data: { source: 1, positions: [{ x: i, y: i }] }, timestamp: Date.now() }));

/**
 * A claimed conversation with its customer and assignee, and everyone who must never see
 * its page: another agent, an admin, another conversation's customer.
 */
async function scene(desk: TestDesk = t) {
  const assignee = await newAgent(desk, "Sam");
  const sa = await agentSocket(desk, assignee.token);
  const { conversation, customerToken } = await startConversation(desk, { name: "Ada" });
  const cust = await customerSocket(desk, customerToken);
  const claimed = await call(sa, "conversation:claim", { conversationId: conversation.id });
  expect(claimed.ok).toBe(true);
  const other = await agentSocket(desk, (await newAgent(desk, "Olivia")).token);
  const admin = await agentSocket(desk, (await login(desk)).token);
  const stranger = await customerSocket(desk, (await startConversation(desk)).customerToken);
  const id = conversation.id;
  return { assignee, sa, cust, other, admin, stranger, id, customerToken };
}

type Scene = Awaited<ReturnType<typeof scene>>;

/** Requests and allows: an active session streamed by `cust`. */
async function activeSession(s: Scene) {
  const active = next(s.sa, "cobrowse:state", (st) => st.status === "active");
  expect((await call(s.sa, "cobrowse:request", { conversationId: s.id })).ok).toBe(true);
  expect((await call(s.cust, "cobrowse:answer", { allow: true })).ok).toBe(true);
  await active;
}

const codeOf = (ack: any) => (ack.ok ? "ok" : ack.error.code);

/** Records every co-browse event a socket receives. */
function watch(socket: Client) {
  return {
    state: record(socket, "cobrowse:state"),
    events: record(socket, "cobrowse:events"),
    highlight: record(socket, "cobrowse:highlight"),
    resync: record(socket, "cobrowse:resync"),
  };
}
const nothing = { state: [], events: [], highlight: [], resync: [] };

describe("co-browse request and consent", () => {
  it("tells the customer and the assignee that the assignee asked, and nobody else", async () => {
    const s = await scene();
    const [other, admin, stranger] = [watch(s.other), watch(s.admin), watch(s.stranger)];
    const toCustomer = next(s.cust, "cobrowse:state");
    const toAssignee = next(s.sa, "cobrowse:state");
    const ack = await call(s.sa, "cobrowse:request", { conversationId: s.id });
    expect(ack).toEqual({ ok: true });
    expect(await toCustomer).toEqual({ conversationId: s.id, status: "requested" });
    expect(await toAssignee).toEqual({ conversationId: s.id, status: "requested" });
    await settle(s.other, s.admin, s.stranger);
    expect([other, admin, stranger]).toEqual([nothing, nothing, nothing]);
  });

  it("refuses a request from another agent, an admin or the customer, and tells nobody", async () => {
    const s = await scene();
    const cust = watch(s.cust);
    const assignee = watch(s.sa);
    expect(codeOf(await call(s.other, "cobrowse:request", { conversationId: s.id }))).toBe("forbidden");
    expect(codeOf(await call(s.admin, "cobrowse:request", { conversationId: s.id }))).toBe("forbidden");
    expect(codeOf(await call(s.cust, "cobrowse:request", { conversationId: s.id }))).toBe("forbidden");
    await settle(s.cust, s.sa);
    expect([cust, assignee]).toEqual([nothing, nothing]);
  });

  it("refuses a request on a queued, closed or unknown conversation", async () => {
    const agent = await agentSocket(t, (await newAgent(t)).token);
    const queued = await startConversation(t);
    expect(codeOf(await call(agent, "cobrowse:request", { conversationId: queued.conversation.id }))).toBe("forbidden");
    const s = await scene();
    await call(s.sa, "conversation:close", { conversationId: s.id });
    expect(codeOf(await call(s.sa, "cobrowse:request", { conversationId: s.id }))).toBe("conversation_closed");
    expect(codeOf(await call(s.sa, "cobrowse:request", { conversationId: "nope" }))).toBe("not_found");
    expect(codeOf(await call(s.sa, "cobrowse:request", {} as any))).toBe("invalid_payload");
  });

  it("makes the session active for both sides when the customer allows", async () => {
    const s = await scene();
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status !== "requested");
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status !== "requested");
    expect(await call(s.cust, "cobrowse:answer", { allow: true })).toEqual({ ok: true });
    expect(await toCustomer).toEqual({ conversationId: s.id, status: "active" });
    expect(await toAssignee).toEqual({ conversationId: s.id, status: "active" });
  });

  it("ends the session with reason denied when the customer refuses, and keeps refusing page data", async () => {
    const s = await scene();
    const seen = record(s.sa, "cobrowse:events");
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    const ended = next(s.sa, "cobrowse:state", (st) => st.status === "ended");
    expect((await call(s.cust, "cobrowse:answer", { allow: false })).ok).toBe(true);
    expect(await ended).toEqual({ conversationId: s.id, status: "ended", reason: "denied" });
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    await settle(s.sa);
    expect(seen).toHaveLength(0);
  });

  it("refuses an answer when nothing was asked, an answer from an agent, and a second answer", async () => {
    const s = await scene();
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("forbidden");
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    expect(codeOf(await call(s.sa, "cobrowse:answer", { allow: true }))).toBe("forbidden");
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: "yes" } as any))).toBe("invalid_payload");
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("ok");
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: false }))).toBe("forbidden");
    expect(codeOf(await call(s.sa, "cobrowse:request", { conversationId: s.id }))).toBe("forbidden");
  });
});

describe("co-browse page data", () => {
  it("refuses the customer's events before it allows, and relays nothing", async () => {
    const s = await scene();
    const seen = record(s.sa, "cobrowse:events");
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    await settle(s.sa);
    expect(seen).toHaveLength(0);
  });

  it("relays the streaming tab's events to every socket of the assignee and to nobody else", async () => {
    const s = await scene();
    const secondTab = await agentSocket(t, s.assignee.token);
    await activeSession(s);
    const [cust, other, admin, stranger] = [watch(s.cust), watch(s.other), watch(s.admin), watch(s.stranger)];
    const events = rrwebLike(3);
    const toAssignee = next(s.sa, "cobrowse:events");
    const toTab = next(secondTab, "cobrowse:events");
    expect(await call(s.cust, "cobrowse:events", { events, conversationId: "ignored" } as any)).toEqual({ ok: true });
    expect(await toAssignee).toEqual({ conversationId: s.id, events });
    expect(await toTab).toEqual({ conversationId: s.id, events });
    await settle(s.cust, s.other, s.admin, s.stranger);
    expect([cust, other, admin, stranger]).toEqual([nothing, nothing, nothing, nothing]);
  });

  it("relays batches in the order they were sent", async () => {
    const s = await scene();
    await activeSession(s);
    const seen = record(s.sa, "cobrowse:events");
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => call(s.cust, "cobrowse:events", { events: [{ n: i }] })));
    expect(acks.every((a) => a.ok)).toBe(true);
    await settle(s.sa);
    expect(seen.map((b) => (b.events[0] as { n: number }).n)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it("lets only the tab that allowed stream; the customer's other tab is forbidden", async () => {
    const s = await scene();
    const otherTab = await customerSocket(t, s.customerToken);
    await activeSession(s);
    const seen = record(s.sa, "cobrowse:events");
    expect(codeOf(await call(otherTab, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    await settle(s.sa);
    expect(seen).toHaveLength(0);
  });

  it("refuses events from an agent, and a batch that is not a list of events", async () => {
    const s = await scene();
    await activeSession(s);
    expect(codeOf(await call(s.sa, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    for (const bad of [{}, { events: [] }, { events: "x" }, null, { events: new Array(5001).fill(1) }]) {
      expect(codeOf(await call(s.cust, "cobrowse:events", bad as any)), JSON.stringify(bad)?.slice(0, 40)).toBe("invalid_payload");
    }
  });

  it("refuses a batch at or over the batch limit with invalid_payload and relays one just under it", async () => {
    const s = await scene();
    await activeSession(s);
    const seen = record(s.sa, "cobrowse:events");
    const sized = (bytes: number) => {
      const overhead = JSON.stringify([{ d: "" }]).length;
      return [{ d: "x".repeat(bytes - overhead) }];
    };
    expect(Buffer.byteLength(JSON.stringify(sized(LIMITS.cobrowseBatch)))).toBe(LIMITS.cobrowseBatch);
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: sized(LIMITS.cobrowseBatch) }))).toBe("invalid_payload");
    // multi-byte characters count as bytes, not as characters
    const wide = [{ d: "é".repeat(LIMITS.cobrowseBatch / 2) }];
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: wide }))).toBe("invalid_payload");
    await settle(s.sa);
    expect(seen).toHaveLength(0);
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: sized(LIMITS.cobrowseBatch - 1) }))).toBe("ok");
    await settle(s.sa);
    expect(seen).toHaveLength(1);
  });

  it("stores nothing of the page", async () => {
    const s = await scene();
    await activeSession(s);
    await call(s.cust, "cobrowse:events", { events: [{ secret: "page-content-42" }] });
    const stored = JSON.stringify(await t.store.getCobrowse(s.id));
    expect(stored).not.toContain("page-content-42");
    const hist: any = await call(s.cust, "history", {});
    expect(JSON.stringify(hist.messages)).not.toContain("page-content-42");
  });
});

describe("co-browse pointing and resync", () => {
  it("outlines the assignee's highlight for the customer only, while active", async () => {
    const s = await scene();
    expect(codeOf(await call(s.sa, "cobrowse:highlight", { conversationId: s.id, nodeId: 7 }))).toBe("forbidden");
    await activeSession(s);
    const [assignee, stranger] = [watch(s.sa), watch(s.stranger)];
    const toCustomer = next(s.cust, "cobrowse:highlight");
    expect(await call(s.sa, "cobrowse:highlight", { conversationId: s.id, nodeId: 42 })).toEqual({ ok: true });
    expect(await toCustomer).toEqual({ nodeId: 42 });
    await settle(s.sa, s.stranger);
    expect([assignee, stranger]).toEqual([nothing, nothing]);
  });

  it("refuses a highlight or a resync from another agent, an admin or the customer", async () => {
    const s = await scene();
    await activeSession(s);
    const cust = watch(s.cust);
    for (const socket of [s.other, s.admin, s.cust]) {
      expect(codeOf(await call(socket, "cobrowse:highlight", { conversationId: s.id, nodeId: 1 }))).toBe("forbidden");
      expect(codeOf(await call(socket, "cobrowse:resync", { conversationId: s.id }))).toBe("forbidden");
    }
    expect(codeOf(await call(s.sa, "cobrowse:highlight", { conversationId: s.id, nodeId: -1 }))).toBe("invalid_payload");
    await settle(s.cust);
    expect(cust).toEqual(nothing);
  });

  it("asks the customer for a full snapshot when the assignee asks for a resync", async () => {
    const s = await scene();
    expect(codeOf(await call(s.sa, "cobrowse:resync", { conversationId: s.id }))).toBe("forbidden");
    await activeSession(s);
    const resync = next(s.cust, "cobrowse:resync");
    expect(await call(s.sa, "cobrowse:resync", { conversationId: s.id })).toEqual({ ok: true });
    expect(await resync).toEqual({});
  });

  it("gives a new tab of the assignee the current state and asks the customer for a snapshot", async () => {
    const s = await scene();
    await activeSession(s);
    const resync = next(s.cust, "cobrowse:resync");
    // listening before connecting: the state may arrive with the handshake
    let states: unknown[] = [];
    const tab = await connectSocket(t, { agentToken: s.assignee.token }, {}, (socket) => (states = record(socket, "cobrowse:state")));
    await resync;
    await settle(tab);
    expect(states).toEqual([{ conversationId: s.id, status: "active" }]);
    const batch = next(tab, "cobrowse:events");
    await call(s.cust, "cobrowse:events", { events: rrwebLike() });
    expect((await batch).conversationId).toBe(s.id);
  });

  it("sends nothing to a new socket of another agent, and no resync when nothing is active", async () => {
    const s = await scene();
    await activeSession(s);
    const cust = watch(s.cust);
    const other = await agentSocket(t, (await newAgent(t)).token);
    const otherSeen = watch(other);
    await settle(other, s.cust);
    expect(otherSeen).toEqual(nothing);
    expect(cust).toEqual(nothing);
  });
});

describe("co-browse ending", () => {
  const within = async <T>(p: Promise<T>, ms = 1000): Promise<T> => {
    const started = Date.now();
    const value = await p;
    expect(Date.now() - started).toBeLessThan(ms);
    return value;
  };

  it("ends for both with reason stopped when the customer stops, then refuses page data", async () => {
    const s = await scene();
    await activeSession(s);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended");
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status === "ended");
    expect(await call(s.cust, "cobrowse:stop", {})).toEqual({ ok: true });
    expect(await toAssignee).toEqual({ conversationId: s.id, status: "ended", reason: "stopped" });
    expect(await toCustomer).toEqual({ conversationId: s.id, status: "ended", reason: "stopped" });
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    expect(codeOf(await call(s.sa, "cobrowse:highlight", { conversationId: s.id, nodeId: 1 }))).toBe("forbidden");
  });

  it("ends with reason stopped when the assignee stops; others cannot stop it", async () => {
    const s = await scene();
    await activeSession(s);
    expect(codeOf(await call(s.other, "cobrowse:stop", { conversationId: s.id }))).toBe("forbidden");
    expect(codeOf(await call(s.admin, "cobrowse:stop", { conversationId: s.id }))).toBe("forbidden");
    expect(codeOf(await call(s.stranger, "cobrowse:stop", {}))).toBe("forbidden");
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status === "ended");
    expect(await call(s.sa, "cobrowse:stop", { conversationId: s.id })).toEqual({ ok: true });
    expect(await toCustomer).toMatchObject({ reason: "stopped" });
    expect(codeOf(await call(s.sa, "cobrowse:stop", { conversationId: s.id }))).toBe("forbidden");
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
  });

  it("lets the customer withdraw a pending request by stopping, and the agent ask again after", async () => {
    const s = await scene();
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    expect((await call(s.cust, "cobrowse:stop", {})).ok).toBe(true);
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("forbidden");
    expect(codeOf(await call(s.sa, "cobrowse:request", { conversationId: s.id }))).toBe("ok");
  });

  it("ends within 1 s with reason left when the streaming tab disconnects (a reload asks again)", async () => {
    const s = await scene();
    const otherTab = await customerSocket(t, s.customerToken);
    await activeSession(s);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    const toOtherTab = next(otherTab, "cobrowse:state", (st) => st.status === "ended", 1000);
    s.cust.disconnect();
    expect(await within(toAssignee)).toEqual({ conversationId: s.id, status: "ended", reason: "left" });
    expect(await toOtherTab).toMatchObject({ reason: "left" });
    const reloaded = await customerSocket(t, s.customerToken);
    expect(codeOf(await call(reloaded, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    expect(codeOf(await call(reloaded, "cobrowse:answer", { allow: true }))).toBe("forbidden");
  });

  it("keeps the session when a customer tab that is not streaming disconnects", async () => {
    const s = await scene();
    const otherTab = await customerSocket(t, s.customerToken);
    await activeSession(s);
    const states = record(s.sa, "cobrowse:state");
    otherTab.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("ok");
    await settle(s.sa);
    expect(states).toHaveLength(0);
  });

  it("ends within 1 s with reason closed when the assignee closes the conversation", async () => {
    const s = await scene();
    await activeSession(s);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.sa, "conversation:close", { conversationId: s.id });
    expect(await within(toAssignee)).toEqual({ conversationId: s.id, status: "ended", reason: "closed" });
    expect(await within(toCustomer)).toMatchObject({ reason: "closed" });
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
  });

  it("ends within 1 s with reason closed when the customer closes the conversation", async () => {
    const s = await scene();
    await activeSession(s);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.cust, "conversation:close", {});
    expect(await within(toAssignee)).toMatchObject({ reason: "closed" });
  });

  it("ends a pending request with reason closed when an admin closes the conversation", async () => {
    const s = await scene();
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.admin, "conversation:close", { conversationId: s.id });
    expect(await within(toAssignee)).toMatchObject({ reason: "closed" });
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("forbidden");
  });

  it("ends within 1 s with reason released when the assignee releases, and stops relaying to them", async () => {
    const s = await scene();
    await activeSession(s);
    const [other, admin] = [watch(s.other), watch(s.admin)];
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.sa, "conversation:release", { conversationId: s.id });
    expect(await within(toAssignee)).toEqual({ conversationId: s.id, status: "ended", reason: "released" });
    expect(await toCustomer).toMatchObject({ reason: "released" });
    expect(codeOf(await call(s.cust, "cobrowse:events", { events: rrwebLike() }))).toBe("forbidden");
    // the next assignee starts from scratch: its own request, the customer's own consent
    await call(s.other, "conversation:claim", { conversationId: s.id });
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("forbidden");
    expect(codeOf(await call(s.other, "cobrowse:request", { conversationId: s.id }))).toBe("ok");
    await settle(s.admin);
    expect(other.events).toHaveLength(0);
    expect(admin).toEqual(nothing);
  });

  it("ends a pending request when the conversation is released before the customer answers", async () => {
    const s = await scene();
    await call(s.sa, "cobrowse:request", { conversationId: s.id });
    const toCustomer = next(s.cust, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.sa, "conversation:release", { conversationId: s.id });
    expect(await within(toCustomer)).toMatchObject({ reason: "released" });
    expect(codeOf(await call(s.cust, "cobrowse:answer", { allow: true }))).toBe("forbidden");
  });
});

describe("co-browse rate limit", () => {
  it("refuses batches beyond the per-socket rate with rate_limited", async () => {
    const limited = await startDesk({ env: { DESK_RATE_LIMITS: "message=10/20" } });
    try {
      const s = await scene(limited);
      await activeSession(s);
      const acks = await Promise.all(Array.from({ length: 130 }, () => call(s.cust, "cobrowse:events", { events: rrwebLike() })));
      const codes = acks.map(codeOf);
      expect(codes.filter((c) => c === "ok").length).toBe(100);
      expect(codes.filter((c) => c === "rate_limited").length).toBe(30);
    } finally {
      await limited.close();
    }
  });
});

describe.each(["classic", "sharded"] as AdapterKind[])("co-browse across two instances on one Redis, %s adapter", (kind) => {
  let redis: RedisHandle;
  let a: TestDesk;
  let b: TestDesk;
  const desks: TestDesk[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const prefix = `cobrowse-${kind}:`;
    const instance = async () => {
      const store: RedisStore = await createRedisStore({ url: redis.url, prefix });
      const adapter: RedisAdapterHandle = await createRedisAdapter(redis.url, silentLogger(), kind);
      const desk = await startDesk({ store, adapter: adapter.adapter });
      desks.push(desk);
      closers.push(() => adapter.close(), () => store.disconnect());
      return desk;
    };
    [a, b] = [await instance(), await instance()];
  });
  afterAll(async () => {
    await Promise.all(desks.map((d) => d.close()));
    // disconnects end sessions, and their announcements still need the adapter
    await new Promise((r) => setTimeout(r, 200));
    for (const close of closers) await close();
    await redis?.stop();
  });

  /** The customer on A; the assignee, another agent and an admin on B. */
  async function split() {
    const assignee = await newAgent(b, "Sam");
    const sa = await agentSocket(b, assignee.token);
    const { conversation, customerToken } = await startConversation(a, { name: "Ada" });
    const cust = await customerSocket(a, customerToken);
    expect((await call(sa, "conversation:claim", { conversationId: conversation.id })).ok).toBe(true);
    const other = await agentSocket(b, (await newAgent(b)).token);
    const admin = await agentSocket(a, (await login(a)).token);
    const id = conversation.id;
    const requested = next(cust, "cobrowse:state", (st) => st.status === "requested");
    expect((await call(sa, "cobrowse:request", { conversationId: id })).ok).toBe(true);
    await requested;
    const active = next(sa, "cobrowse:state", (st) => st.status === "active");
    expect((await call(cust, "cobrowse:answer", { allow: true })).ok).toBe(true);
    await active;
    return { assignee, sa, cust, other, admin, id };
  }

  it("relays the customer's page from A to the assignee on B only, and the highlight back", async () => {
    const s = await split();
    const [other, admin] = [watch(s.other), watch(s.admin)];
    const batch = next(s.sa, "cobrowse:events");
    await call(s.cust, "cobrowse:events", { events: [{ n: 1 }] });
    expect(await batch).toEqual({ conversationId: s.id, events: [{ n: 1 }] });
    const highlight = next(s.cust, "cobrowse:highlight");
    await call(s.sa, "cobrowse:highlight", { conversationId: s.id, nodeId: 9 });
    expect(await highlight).toEqual({ nodeId: 9 });
    await settle(s.other, s.admin);
    expect([other, admin]).toEqual([nothing, nothing]);
  });

  it("ends on B within 1 s when the streaming socket on A disconnects", async () => {
    const s = await split();
    const ended = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    s.cust.disconnect();
    expect(await ended).toMatchObject({ reason: "left" });
  });

  it("ends on A within 1 s when the assignee on B closes the conversation", async () => {
    const s = await split();
    const ended = next(s.cust, "cobrowse:state", (st) => st.status === "ended", 1000);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    await call(s.sa, "conversation:close", { conversationId: s.id });
    expect(await ended).toMatchObject({ reason: "closed" });
    expect(await toAssignee).toMatchObject({ reason: "closed" });
  });

  it("ends for both within 1 s when an admin on A releases the conversation held on B", async () => {
    const s = await split();
    const ended = next(s.cust, "cobrowse:state", (st) => st.status === "ended", 1000);
    const toAssignee = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 1000);
    expect((await call(s.admin, "conversation:release", { conversationId: s.id })).ok).toBe(true);
    expect(await ended).toMatchObject({ reason: "released" });
    expect(await toAssignee).toMatchObject({ reason: "released" });
  });

  it("gives a new tab of the assignee on A the state, and the customer a resync", async () => {
    const s = await split();
    const resync = next(s.cust, "cobrowse:resync");
    let states: unknown[] = [];
    const tab = await connectSocket(a, { agentToken: s.assignee.token }, {}, (socket) => (states = record(socket, "cobrowse:state")));
    await resync;
    await settle(tab);
    expect(states).toEqual([{ conversationId: s.id, status: "active" }]);
    const batch = next(tab, "cobrowse:events");
    await call(s.cust, "cobrowse:events", { events: [{ n: 2 }] });
    expect((await batch).events).toEqual([{ n: 2 }]);
  });
});

describe("a streaming customer whose instance died", () => {
  it("ends the session with reason left once the customer's presence expires", async () => {
    const s = await scene();
    // the session is streamed by a socket of an instance that is gone: nothing will ever
    // report its disconnect, only its presence entry expires
    const ghost = "ghost-socket-of-a-dead-instance";
    await t.store.setCobrowse(s.id, { conversationId: s.id, status: "active", agentId: s.assignee.agent.id, streamerSocketId: ghost, updatedAt: new Date().toISOString() }, [null, "ended"]);
    const ended = next(s.sa, "cobrowse:state", (st) => st.status === "ended", 5000);
    await t.store.presenceJoin(`customer:${s.id}`, ghost, Date.now() - 1);
    s.cust.disconnect(); // the live tab goes too, so the customer is gone for good
    expect(await ended).toEqual({ conversationId: s.id, status: "ended", reason: "left" });
  });
});
