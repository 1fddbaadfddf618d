import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAdmin } from "../server/desk/agents.js";
import { ADMIN, agentSocket, api, connectSocket, login, newAgent, startConversation, startDesk, type TestDesk } from "./helpers/desk.js";

let t: TestDesk;
beforeAll(async () => {
  t = await startDesk();
});
afterAll(() => t.close());

describe("health", () => {
  it("answers /healthz and /readyz", async () => {
    expect(await api(t.url, "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect((await api(t.url, "/readyz")).status).toBe(200);
  });
});

describe("starting a conversation", () => {
  it("returns the conversation, its first message as seq 1 and a customer token", async () => {
    const res = await api(t.url, "/api/conversations", {
      body: { name: "  Bea  ", email: "bea@example.com", topic: "Refund", message: "Where is my refund?", clientId: "first" },
    });
    expect(res.status).toBe(201);
    expect(res.body.conversation).toMatchObject({
      status: "queued",
      customer: { name: "Bea", email: "bea@example.com", online: false },
      topic: "Refund",
      assignee: null,
      lastSeq: 1,
    });
    expect(res.body.customerToken).toMatch(/^c\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{32,}$/);
    const hist = await api(t.url, `/api/conversations/${res.body.conversation.id}/messages`, { token: res.body.customerToken });
    expect(hist.body.messages).toEqual([expect.objectContaining({ seq: 1, body: "Where is my refund?", clientId: "first" })]);
  });

  it.each([
    ["no name", { message: "hi" }],
    ["empty name", { name: " ", message: "hi" }],
    ["name over 80", { name: "n".repeat(81), message: "hi" }],
    ["topic over 120", { name: "A", topic: "t".repeat(121), message: "hi" }],
    ["bad email", { name: "A", email: "not-an-email", message: "hi" }],
    ["no message", { name: "A" }],
    ["message over 4000", { name: "A", message: "m".repeat(4001) }],
    ["wrong types", { name: 5, message: ["hi"] }],
  ])("refuses %s with 400 invalid_payload and creates nothing", async (_label, body) => {
    const before = (await t.store.listQueue()).length;
    const res = await api(t.url, "/api/conversations", { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_payload");
    expect(typeof res.body.error.message).toBe("string");
    expect((await t.store.listQueue()).length).toBe(before);
  });

  it("refuses a body over 16 KiB with 413 and malformed JSON with 400, as JSON", async () => {
    const big = await api(t.url, "/api/conversations", { body: { name: "A", message: "x".repeat(17 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe("payload_too_large");
    const broken = await api(t.url, "/api/conversations", { body: "{not json" });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe("invalid_payload");
  });

  it("answers unknown endpoints with a JSON 404", async () => {
    const res = await api(t.url, "/api/nothing-here");
    expect(res).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });
});

describe("agent authentication", () => {
  it("logs in with the admin from the environment, sets an httpOnly cookie and knows who it is", async () => {
    const res = await api(t.url, "/api/auth/login", { body: ADMIN });
    expect(res.status).toBe(200);
    expect(res.body.agent).toMatchObject({ email: ADMIN.email, role: "admin" });
    expect(res.body.agent).not.toHaveProperty("passwordHash");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/desk_session=.+; Path=\/; HttpOnly; SameSite=Lax/);
    const byCookie = await api(t.url, "/api/me", { headers: { cookie: cookie.split(";")[0]! } });
    expect(byCookie.body.agent.email).toBe(ADMIN.email);
    const byBearer = await api(t.url, "/api/me", { token: res.body.token });
    expect(byBearer.status).toBe(200);
  });

  it("refuses a wrong password or unknown email with 401 and the same message", async () => {
    const wrong = await api(t.url, "/api/auth/login", { body: { email: ADMIN.email, password: "nope-nope" } });
    const unknown = await api(t.url, "/api/auth/login", { body: { email: "ghost@example.com", password: "nope-nope" } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toEqual(unknown.body.error);
  });

  it("refuses /api/me and /api/agents without a valid token", async () => {
    for (const token of [undefined, "garbage", "a.eyJzdWIiOiJ4In0.forged"]) {
      expect((await api(t.url, "/api/me", { token })).status).toBe(401);
      expect((await api(t.url, "/api/agents", { token })).status).toBe(401);
    }
  });

  it("lets only an admin create agents, and refuses a duplicate email", async () => {
    const admin = await login(t);
    const body = { email: "Nina@Example.com", name: "Nina", password: "nina-password" };
    const created = await api(t.url, "/api/agents", { body, token: admin.token });
    expect(created.status).toBe(201);
    expect(created.body.agent).toMatchObject({ email: "nina@example.com", name: "Nina", role: "agent" });
    const dup = await api(t.url, "/api/agents", { body: { ...body, email: "nina@example.com" }, token: admin.token });
    expect(dup.status).toBe(409);
    const nina = await login(t, { email: "nina@example.com", password: "nina-password" });
    const denied = await api(t.url, "/api/agents", { body: { ...body, email: "x@example.com" }, token: nina.token });
    expect(denied.status).toBe(403);
    const list = await api(t.url, "/api/agents", { token: nina.token });
    expect(list.body.agents.map((a: any) => a.email)).toEqual(expect.arrayContaining(["nina@example.com", ADMIN.email]));
    for (const a of list.body.agents) expect(["online", "away", "offline"]).toContain(a.presence);
  });

  it("revokes the token at logout and disconnects that session's sockets", async () => {
    const a = await newAgent(t);
    const socket = await agentSocket(t, a.token);
    const dropped = new Promise((resolve) => socket.once("disconnect", resolve));
    const out = await api(t.url, "/api/auth/logout", { method: "POST", token: a.token });
    expect(out.status).toBe(204);
    await dropped;
    expect((await api(t.url, "/api/me", { token: a.token })).status).toBe(401);
    await expect(agentSocket(t, a.token)).rejects.toThrow("unauthorized");
  });

  it("disconnects every socket of an agent an admin disables, and refuses its logins", async () => {
    const a = await newAgent(t);
    const socket = await agentSocket(t, a.token);
    const dropped = new Promise((resolve) => socket.once("disconnect", resolve));
    const admin = await login(t);
    const res = await api(t.url, `/api/agents/${a.agent.id}`, { method: "PATCH", body: { disabled: true }, token: admin.token });
    expect(res.status).toBe(200);
    await dropped;
    const again = await api(t.url, "/api/auth/login", { body: { email: a.email, password: a.password } });
    expect(again.status).toBe(401);
  });
});

describe("socket authentication", () => {
  it("fails the handshake with 'unauthorized' for a missing, bad or foreign credential", async () => {
    await expect(connectSocket(t, {})).rejects.toThrow("unauthorized");
    await expect(connectSocket(t, { customerToken: "c.nope.nope" })).rejects.toThrow("unauthorized");
    await expect(connectSocket(t, { agentToken: "a.bad.bad" })).rejects.toThrow("unauthorized");
    const { conversation } = await startConversation(t);
    await expect(connectSocket(t, { customerToken: `c.${conversation.id}.${"A".repeat(32)}` })).rejects.toThrow("unauthorized");
  });

  it("does not let a customer token read another conversation over HTTP", async () => {
    const mine = await startConversation(t);
    const theirs = await startConversation(t);
    const res = await api(t.url, `/api/conversations/${theirs.conversation.id}/messages`, { token: mine.customerToken });
    expect(res.status).toBe(403);
  });
});

describe("metrics", () => {
  it("exposes Prometheus metrics: sockets by role, queue, messages stored and ack latency", async () => {
    const { customerToken } = await startConversation(t);
    const cust = await connectSocket(t, { customerToken });
    await new Promise<void>((resolve) => cust.emit("message:send", { clientId: "metrics-1", body: "count me" }, () => resolve()));
    const res = await fetch(`${t.url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/desk_connected_sockets\{role="customer"\} [1-9]/);
    expect(text).toMatch(/desk_queue_length [1-9]/);
    expect(text).toMatch(/desk_queue_oldest_wait_seconds \d/);
    expect(text).toMatch(/desk_messages_stored_total [1-9]/);
    expect(text).toMatch(/desk_ack_duration_seconds_count\{event="message:send",outcome="ok"\} [1-9]/);
  });
});

describe("an agent leaving for good", () => {
  it("puts the conversations of an agent who logs out back in the queue, and tells their customers", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const { conversation, customerToken } = await startConversation(t);
    const cust = await connectSocket(t, { customerToken });
    await new Promise((resolve) => sa.emit("conversation:claim", { conversationId: conversation.id }, resolve));
    const backInQueue = new Promise<any>((resolve) => cust.on("conversation:updated", (c) => c.status === "queued" && resolve(c)));
    const position = new Promise<any>((resolve) => cust.once("queue:position", resolve));
    expect((await api(t.url, "/api/auth/logout", { method: "POST", token: a.token })).status).toBe(204);
    expect(await backInQueue).toMatchObject({ id: conversation.id, assignee: null });
    expect((await position).position).toBeGreaterThanOrEqual(1);
    expect((await t.store.listQueue()).map((c) => c.id)).toContain(conversation.id);
  });

  it("puts the conversations of an agent an admin disables back in the queue", async () => {
    const a = await newAgent(t);
    const sa = await agentSocket(t, a.token);
    const { conversation } = await startConversation(t);
    await new Promise((resolve) => sa.emit("conversation:claim", { conversationId: conversation.id }, resolve));
    const admin = await login(t);
    await api(t.url, `/api/agents/${a.agent.id}`, { method: "PATCH", body: { disabled: true }, token: admin.token });
    const record = await t.store.getConversation(conversation.id);
    expect(record).toMatchObject({ status: "queued", assignee: null });
  });
});

describe("password changes", () => {
  it("ends every session signed in with the old password, and the new one works", async () => {
    const a = await newAgent(t);
    const socket = await agentSocket(t, a.token);
    const dropped = new Promise((resolve) => socket.once("disconnect", resolve));
    const admin = await login(t);
    const res = await api(t.url, `/api/agents/${a.agent.id}`, { method: "PATCH", body: { password: "a-brand-new-password" }, token: admin.token });
    expect(res.status).toBe(200);
    expect(res.body.agent).not.toHaveProperty("sessionsValidAfter");
    await dropped;
    expect((await api(t.url, "/api/me", { token: a.token })).status).toBe(401);
    await expect(agentSocket(t, a.token)).rejects.toThrow("unauthorized");
    const fresh = await login(t, { email: a.email, password: "a-brand-new-password" });
    expect((await api(t.url, "/api/me", { token: fresh.token })).status).toBe(200);
  });

  it("keeps the admin's sessions across a restart with the same password", async () => {
    const before = await login(t);
    await ensureAdmin(t.desk.deps, ADMIN.email, ADMIN.password);
    expect((await api(t.url, "/api/me", { token: before.token })).status).toBe(200);
    await ensureAdmin(t.desk.deps, ADMIN.email, "another-admin-password");
    expect((await api(t.url, "/api/me", { token: before.token })).status).toBe(401);
    await ensureAdmin(t.desk.deps, ADMIN.email, ADMIN.password); // put it back for the other tests
  });
});
