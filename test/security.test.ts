import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentSocket,
  api,
  call,
  clientId,
  connectSocket,
  customerSocket,
  login as loginAs,
  newAgent,
  next,
  record,
  settle,
  startConversation,
  startDesk,
  type Client,
  type TestDesk,
} from "./helpers/desk.js";
import { rawSocket } from "./helpers/raw.js";
import { parseRateLimits } from "../server/config.js";

const SHOP = "https://shop.example";
const EVIL = "https://evil.example";

let t: TestDesk;
beforeAll(async () => {
  t = await startDesk({ env: { DESK_ALLOWED_ORIGINS: SHOP } });
});
afterAll(() => t.close());

/** A customer and an assignee in one claimed conversation. */
async function pair(desk = t, address?: string) {
  const agent = await newAgent(desk);
  const sa = await agentSocket(desk, agent.token);
  const { conversation, customerToken } = address ? await startFrom(desk, address) : await startConversation(desk, { name: "Ada", message: "Hello" });
  const cust = await customerSocket(desk, customerToken);
  const claimed = await call(sa, "conversation:claim", { conversationId: conversation.id });
  expect(claimed.ok).toBe(true);
  return { agent, sa, cust, conversation, customerToken };
}

/** Starts a conversation as if from `address` (the desk trusts X-Forwarded-For from loopback). */
async function startFrom(desk: TestDesk, address: string, body: Record<string, unknown> = {}) {
  const res = await api(desk.url, "/api/conversations", {
    body: { name: "Ada", message: "Hello", ...body },
    headers: { "x-forwarded-for": address },
  });
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { conversation: { id: string }; customerToken: string };
}

/** The desk still serves others: a fresh customer and its assignee exchange a message both ways. */
async function stillServes(desk = t) {
  expect((await api(desk.url, "/healthz")).status).toBe(200);
  const { sa, cust, conversation } = await pair(desk, `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`);
  const toAgent = next(sa, "message:new", (m) => m.conversationId === conversation.id);
  const ack = await call(cust, "message:send", { clientId: clientId(), body: "still there?" });
  expect(ack.ok).toBe(true);
  expect((await toAgent).body).toBe("still there?");
  const toCustomer = next(cust, "message:new");
  expect((await call(sa, "message:send", { conversationId: conversation.id, clientId: clientId(), body: "yes" })).ok).toBe(true);
  expect((await toCustomer).body).toBe("yes");
}

const stored = async (desk: TestDesk, conversationId: string) => desk.store.listMessages(conversationId, 0, 1000);

describe("origins", () => {
  it("refuses a socket handshake from a foreign Origin, whatever its credentials", async () => {
    const { customerToken } = await startConversation(t);
    await expect(connectSocket(t, { customerToken }, { extraHeaders: { origin: EVIL } })).rejects.toThrow();
    await expect(rawSocket(t.url, { customerToken }, { origin: EVIL })).rejects.toThrow();
    // the long-polling transport is checked the same way
    const polling = await fetch(`${t.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: EVIL } });
    expect(polling.status).toBeGreaterThanOrEqual(400);
    expect(polling.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("accepts the desk's own origin and the allowed origins", async () => {
    const { customerToken } = await startConversation(t);
    const own = await connectSocket(t, { customerToken }, { extraHeaders: { origin: t.url } });
    const shop = await connectSocket(t, { customerToken }, { extraHeaders: { origin: SHOP } });
    expect(own.connected && shop.connected).toBe(true);
  });

  it("judges a handshake without Origin by its credentials alone", async () => {
    const { customerToken } = await startConversation(t);
    const raw = await rawSocket(t.url, { customerToken });
    expect(raw.isOpen).toBe(true);
    raw.close();
    await expect(rawSocket(t.url, { customerToken: "c.nope.nope" })).rejects.toThrow("unauthorized");
    await expect(rawSocket(t.url, {})).rejects.toThrow("unauthorized");
  });

  it("answers API CORS only for the allowed origins", async () => {
    const preflight = (origin: string) =>
      fetch(`${t.url}/api/conversations`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    const allowed = await preflight(SHOP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SHOP);
    // never with credentials: an embedding site must not ride on an agent's cookie
    expect(allowed.headers.get("access-control-allow-credentials")).toBeNull();
    expect(allowed.headers.get("vary")).toMatch(/origin/i);
    const foreign = await preflight(EVIL);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    expect(foreign.headers.get("access-control-allow-credentials")).toBeNull();

    const fromShop = await api(t.url, "/api/conversations", { body: { name: "A", message: "hi" }, headers: { origin: SHOP } });
    expect(fromShop.headers.get("access-control-allow-origin")).toBe(SHOP);
    // an allowed embedding site does not get an agent's session from its cookie
    const admin = await loginAs(t);
    const cookie = `desk_session=${encodeURIComponent(admin.token)}`;
    expect((await api(t.url, "/api/me", { headers: { cookie } })).status).toBe(200);
    expect((await api(t.url, "/api/me", { headers: { cookie, origin: SHOP } })).status).toBe(401);
    await expect(connectSocket(t.url, {}, { transports: ["polling"], extraHeaders: { cookie, origin: SHOP } })).rejects.toThrow("unauthorized");
    const fromEvil = await api(t.url, "/api/me", { headers: { origin: EVIL } });
    expect(fromEvil.status).toBe(401);
    expect(fromEvil.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("security headers", () => {
  const directives = (csp: string) =>
    Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));

  it("sends nosniff and a CSP with no inline or eval script on every response", async () => {
    for (const path of ["/healthz", "/api/me", "/api/nothing-here", "/"]) {
      const res = await fetch(t.url + path);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-powered-by")).toBeNull();
      const csp = directives(res.headers.get("content-security-policy") ?? "");
      expect(csp["default-src"]).toEqual(["'self'"]);
      expect(csp["script-src"]).toEqual(["'self'"]);
      expect(csp["object-src"]).toEqual(["'none'"]);
      expect(csp["base-uri"]).toEqual(["'self'"]);
      // only the customer page (the widget's iframe) may be framed by the allowed sites
      expect(csp["frame-ancestors"]).toEqual(path === "/" ? ["'self'", SHOP] : ["'self'"]);
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("serves the client pages under the same headers", async () => {
    const dir = mkdtempSync(join(tmpdir(), "desk-client-"));
    writeFileSync(join(dir, "index.html"), '<!doctype html><script type="module" src="/assets/app.js"></script>');
    const desk = await startDesk({ env: { DESK_CLIENT_DIR: dir } });
    try {
      const res = await fetch(desk.url + "/");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    } finally {
      await desk.close();
    }
  });

  it("has client pages the CSP allows: no inline script, no inline event handler", () => {
    for (const dir of ["client", "dist/client"]) {
      if (!existsSync(dir)) continue;
      for (const file of readdirSync(dir).filter((f) => f.endsWith(".html"))) {
        const html = readFileSync(join(dir, file), "utf8");
        for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) expect(tag, `${dir}/${file}`).toMatch(/\ssrc=/i);
        expect(html, `${dir}/${file}`).not.toMatch(/\son[a-z]+\s*=/i);
        expect(html, `${dir}/${file}`).not.toMatch(/javascript:/i);
      }
    }
  });
});

describe("access control", () => {
  it("does not let a customer token read another conversation over HTTP, nor one forged from it", async () => {
    const mine = await startConversation(t);
    const theirs = await startConversation(t);
    const read = await api(t.url, `/api/conversations/${theirs.conversation.id}/messages`, { token: mine.customerToken });
    expect(read.status).toBe(403);
    const secret = mine.customerToken.split(".")[2];
    const forged = `c.${theirs.conversation.id}.${secret}`;
    expect((await api(t.url, `/api/conversations/${theirs.conversation.id}/messages`, { token: forged })).status).toBe(401);
    await expect(customerSocket(t, forged)).rejects.toThrow("unauthorized");
    // a customer token is no agent credential
    expect((await api(t.url, "/api/me", { token: mine.customerToken })).status).toBe(401);
    expect((await api(t.url, "/api/agents", { token: mine.customerToken })).status).toBe(401);
    await expect(agentSocket(t, mine.customerToken)).rejects.toThrow("unauthorized");
  });

  it("binds a customer socket to its own conversation, whatever conversationId it sends", async () => {
    const mine = await startConversation(t);
    const theirs = await pair();
    const cust = await customerSocket(t, mine.customerToken);
    const typingSeen = record(theirs.sa, "typing");
    const messagesSeen = record(theirs.sa, "message:new");

    const hist: any = await call(cust, "history", { conversationId: theirs.conversation.id } as any);
    expect(hist.conversation.id).toBe(mine.conversation.id);
    const sent: any = await call(cust, "message:send", { conversationId: theirs.conversation.id, clientId: clientId(), body: "mine" } as any);
    expect(sent.message.conversationId).toBe(mine.conversation.id);
    await call(cust, "typing", { conversationId: theirs.conversation.id, isTyping: true } as any);
    const closed: any = await call(cust, "conversation:close", { conversationId: theirs.conversation.id });
    expect(closed.conversation.id).toBe(mine.conversation.id);

    await settle(theirs.sa);
    expect(typingSeen).toEqual([]);
    expect(messagesSeen).toEqual([]);
    expect((await t.store.getConversation(theirs.conversation.id))?.status).toBe("assigned");
    expect((await stored(t, theirs.conversation.id)).map((m) => m.body)).toEqual(["Hello"]);
  });

  it("refuses every agent event to a customer socket with forbidden", async () => {
    const { conversation } = await startConversation(t);
    const { customerToken } = await startConversation(t);
    const cust = await customerSocket(t, customerToken);
    const attempts: [string, object][] = [
      ["queue:list", {}],
      ["conversation:list", {}],
      ["conversation:claim", { conversationId: conversation.id }],
      ["conversation:release", { conversationId: conversation.id }],
      ["presence:set", { status: "away" }],
    ];
    for (const [event, payload] of attempts) {
      const ack: any = await call(cust, event as any, payload as any);
      expect(ack, event).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }
    expect((await t.store.getConversation(conversation.id))?.status).toBe("queued");
  });

  it("lets a closed conversation's customer read its history but not post or type", async () => {
    const { cust, sa, conversation, customerToken } = await pair();
    expect((await call(cust, "message:send", { clientId: clientId(), body: "before" })).ok).toBe(true);
    expect((await call(sa, "conversation:close", { conversationId: conversation.id })).ok).toBe(true);

    const again = await customerSocket(t, customerToken);
    const hist: any = await call(again, "history", {});
    expect(hist.conversation.status).toBe("closed");
    expect(hist.messages.map((m: any) => m.body)).toEqual(["Hello", "before"]);
    const http = await api(t.url, `/api/conversations/${conversation.id}/messages`, { token: customerToken });
    expect(http.status).toBe(200);
    expect(http.body.messages).toHaveLength(2);

    expect(await call(again, "message:send", { clientId: clientId(), body: "after" })).toMatchObject({ ok: false, error: { code: "conversation_closed" } });
    expect(await call(again, "typing", { isTyping: true })).toMatchObject({ ok: false, error: { code: "conversation_closed" } });
    expect(await call(again, "conversation:close", {})).toMatchObject({ ok: false, error: { code: "conversation_closed" } });
    expect(await stored(t, conversation.id)).toHaveLength(2);
  });
});

describe("hostile payloads", () => {
  it("stores what the server decides, never spoofed author, seq, id, createdAt, conversationId or extra fields", async () => {
    const { cust, sa, conversation, agent } = await pair();
    const other = await startConversation(t);
    const spoof = {
      id: "spoofed-id",
      seq: 999,
      createdAt: "1999-01-01T00:00:00.000Z",
      conversationId: other.conversation.id,
      author: { role: "agent", id: agent.agent.id, name: "Support Team" },
      role: "system",
      isAdmin: true,
      extra: { nested: true },
    };
    const before = Date.now();
    const byCustomer: any = await call(cust, "message:send", { ...spoof, clientId: "spoof-1", body: "from customer" } as any);
    const byAgent: any = await call(sa, "message:send", {
      ...spoof,
      conversationId: conversation.id,
      author: { role: "system", name: "System" },
      clientId: "spoof-2",
      body: "from agent",
    } as any);
    expect(byCustomer.ok && byAgent.ok).toBe(true);

    const messages = await stored(t, conversation.id);
    expect(messages).toHaveLength(3);
    const [, fromCustomer, fromAgent] = messages;
    for (const m of [fromCustomer!, fromAgent!]) {
      expect(Object.keys(m).sort()).toEqual(["author", "body", "clientId", "conversationId", "createdAt", "id", "seq"]);
      expect(m.id).not.toBe("spoofed-id");
      expect(m.conversationId).toBe(conversation.id);
      expect(Date.parse(m.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    }
    expect(fromCustomer).toMatchObject({ seq: 2, body: "from customer", author: { role: "customer", name: "Ada" } });
    expect(fromCustomer!.author).not.toHaveProperty("id");
    expect(fromAgent).toMatchObject({ seq: 3, body: "from agent", author: { role: "agent", id: agent.agent.id } });
    expect(await stored(t, other.conversation.id)).toHaveLength(1);
  });

  it("starts a conversation with only the fields a customer may set", async () => {
    const res = await api(t.url, "/api/conversations", {
      body: {
        name: "Eve",
        message: "hi",
        id: "chosen-id",
        status: "assigned",
        assignee: { id: "x", name: "Mallory" },
        lastSeq: 50,
        customerTokenHash: "00",
        customer: { name: "Admin", online: true },
      },
    });
    expect(res.status).toBe(201);
    const record = await t.store.getConversation(res.body.conversation.id);
    expect(record).toMatchObject({ status: "queued", assignee: null, lastSeq: 1, customer: { name: "Eve", online: false } });
    expect(record!.id).not.toBe("chosen-id");
    expect(record!.customerTokenHash).not.toBe("00");
  });

  it("is not changed by __proto__ or constructor keys, and Object.prototype stays clean", async () => {
    const { cust, conversation } = await pair();
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const poison = (extra: string) =>
      JSON.parse(`{"__proto__":{"polluted":"yes","clientId":"p","body":"proto"},"constructor":{"prototype":{"polluted":"yes"}}${extra}}`);

    expect(await call(cust, "message:send", poison(""))).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    const ok: any = await call(cust, "message:send", poison(`,"clientId":"${clientId()}","body":"fine"`));
    expect(ok.ok).toBe(true);
    expect(Object.keys(ok.message)).not.toContain("polluted");
    await call(cust, "typing", poison(`,"isTyping":true`));
    await call(cust, "history", poison(""));
    for (const path of ["/api/conversations", "/api/auth/login", "/api/agents"]) {
      const res = await api(t.url, path, { body: '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}' });
      expect(res.status).toBeLessThan(500);
    }
    const started = await api(t.url, "/api/conversations", {
      body: '{"name":"__proto__","message":"constructor","__proto__":{"status":"closed","isAdmin":true}}',
    });
    expect(started.status).toBe(201);
    expect(started.body.conversation).toMatchObject({ status: "queued", customer: { name: "__proto__" } });
    expect((await api(t.url, "/api/conversations/__proto__/messages", { token: started.body.customerToken })).status).toBe(403);
    expect((await api(t.url, `/api/conversations/${conversation.id}/messages?afterSeq=0&__proto__[x]=1&constructor=1`, { token: started.body.customerToken })).status).toBe(403);

    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect((await stored(t, conversation.id)).map((m) => m.body)).toEqual(["Hello", "fine"]);
  });

  it("stores HTML, script and query-language payloads verbatim, as plain text", async () => {
    const { cust, sa, conversation } = await pair();
    const bodies = [
      `<script>alert("x")</script><img src=x onerror="alert(1)">`,
      `'; DROP TABLE messages;--`,
      `{"$gt":""}`,
      `{"$where":"sleep(1000)"}`,
      "${7*7} {{7*7}} <%= 7*7 %>",
      "\u202Egnp.exe \u0000 \uFEFF 👩‍💻 \uD800",
    ];
    for (const body of bodies) {
      const arrives = next(sa, "message:new", (m) => m.clientId === `v-${bodies.indexOf(body)}`);
      const ack: any = await call(cust, "message:send", { clientId: `v-${bodies.indexOf(body)}`, body });
      expect(ack.message.body).toBe(body);
      expect((await arrives).body).toBe(body);
    }
    expect((await stored(t, conversation.id)).slice(1).map((m) => m.body)).toEqual(bodies);
    const http = await fetch(`${t.url}/api/conversations/${conversation.id}/messages`, { headers: { authorization: `Bearer ${(await newAgent(t)).token}` } });
    expect(http.headers.get("content-type")).toMatch(/^application\/json/);
    // query operators are values of the wrong type, not queries
    expect(await call(cust, "message:send", { clientId: { $gt: "" }, body: { $ne: null } } as any)).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    const login = await api(t.url, "/api/auth/login", { body: { email: { $gt: "" }, password: { $gt: "" } } });
    expect(login.status).toBe(400);
    const sqlLogin = await api(t.url, "/api/auth/login", { body: { email: "' OR '1'='1", password: "' OR '1'='1" } });
    expect(sqlLogin.status).toBe(401);
  });
});

describe("hand-crafted Socket.IO packets", () => {
  it("survives malformed, mistyped and binary-placeholder packets, and keeps serving others", async () => {
    const { customerToken } = await startConversation(t);
    const frames: (string | Buffer)[][] = [
      ['42["message:send",{bad json'],
      ["49"],
      ["4"],
      ['47["x"]'],
      ['421[5,{}]'],
      ['421{"not":"an array"}'],
      ['421"just a string"'],
      ['42["message:send",{"_placeholder":true,"num":0}]', '421["history",{}]'],
      ['451-["message:send",{"_placeholder":true,"num":0}]'],
      ['451-["message:send",{"_placeholder":true,"num":0}]', '421["history",{}]'],
      ['4599999999999-["message:send",{}]'],
      ['451-["message:send",{"clientId":"b","body":{"_placeholder":true,"num":7}}]', Buffer.from("binary")],
      [Buffer.from([0xff, 0x00, 0x42])],
      ["z", "", "6", "5"],
      ['40{"customerToken":"again"}'],
      ["41", '421["history",{}]'],
      ['4299999999999999999999["history",{}]'],
      ['421["constructor",{}]', '422["__proto__",{}]', '423["toString",{}]', '424["hasOwnProperty",{}]'],
    ];
    for (const batch of frames) {
      const raw = await rawSocket(t.url, { customerToken });
      for (const frame of batch) raw.send(frame);
      // the server answers what it can and closes what it cannot parse; either way it lives
      await Promise.race([raw.closed, raw.call("history", {}, 77, 500).catch(() => undefined)]);
      raw.close();
    }
    await stillServes();
  });

  it("answers a well-formed event sent by hand, and refuses a placeholder where a string belongs", async () => {
    const { customerToken, conversation } = await startConversation(t);
    const raw = await rawSocket(t.url, { customerToken });
    expect(await raw.call("message:send", { clientId: "raw-1", body: "by hand" }, 1)).toMatchObject({ ok: true, message: { seq: 2 } });
    expect(await raw.call("message:send", { clientId: "raw-2", body: { _placeholder: true, num: 0 } }, 2)).toMatchObject({
      ok: false,
      error: { code: "invalid_payload" },
    });
    // an event the desk does not know is answered too, and changes nothing
    expect(await raw.call("nope:unknown", {}, 3)).toMatchObject({ ok: false, error: { code: "invalid_payload" } });
    expect(await raw.call("history", {}, 4)).toMatchObject({ ok: true, conversation: { id: conversation.id } });
    raw.close();
  });

  it("closes a connection that sends a 200 KiB frame", async () => {
    const { customerToken } = await startConversation(t);
    const raw = await rawSocket(t.url, { customerToken });
    raw.send(`42${JSON.stringify(["message:send", { clientId: "big", body: "x".repeat(200 * 1024) }])}`);
    expect(await raw.closed).toBe(1009);
    await stillServes();
  });

  it("lives through a burst of thousands of events on one connection", async () => {
    const { customerToken, conversation } = await startConversation(t);
    const raw = await rawSocket(t.url, { customerToken });
    const events = ["typing", "history", "message:send", "queue:list", "conversation:claim", "unknown:event"];
    let sent = 0;
    for (let i = 0; i < 5000; i++) {
      const event = events[i % events.length]!;
      const payload = event === "message:send" ? { clientId: `burst-${sent++ % 50}`, body: `b${i}` } : { isTyping: i % 2 === 0, afterSeq: 1e9 };
      raw.send(`42${i + 1}${JSON.stringify([event, payload])}`);
    }
    // every event with a listener is answered; unknown events are dropped silently
    const expected = 5000 - Math.floor(5000 / events.length);
    let acks = 0;
    await raw.waitFor((f) => f.startsWith("43") && ++acks >= expected, 20_000);
    expect(raw.frames.some((f) => f.includes('"internal"'))).toBe(false);
    expect((await stored(t, conversation.id)).length).toBe(51); // 50 distinct clientIds: retries deduped
    raw.close();
    await stillServes();
  });
});

describe("with rate limits on", () => {
  let limited: TestDesk;
  beforeAll(async () => {
    limited = await startDesk({ env: { DESK_RATE_LIMITS: "" } });
  });
  afterAll(() => limited.close());

  it("refuses most of a 300-message flood from one socket with rate_limited, then cuts the socket off", async () => {
    const { cust, conversation } = await pair(limited, "10.1.0.1");
    const results: string[] = [];
    const cutOff = new Promise<string>((resolve) => cust.once("disconnect", resolve));
    for (let i = 0; i < 300; i++) {
      cust.emit("message:send", { clientId: `flood-${i}`, body: `m${i}` }, (ack: any) => results.push(ack.ok ? "ok" : ack.error.code));
    }
    expect(await cutOff).toBe("io server disconnect");
    const ok = results.filter((r) => r === "ok").length;
    const limitedCount = results.filter((r) => r === "rate_limited").length;
    const unanswered = 300 - results.length;
    console.info(`flood of 300: ${ok} acked ok, ${limitedCount} rate_limited, ${unanswered} unanswered after the cut-off`);
    expect(ok).toBeLessThanOrEqual(40);
    // the cut-off comes once the refusals reach the threshold
    expect(limitedCount).toBeGreaterThanOrEqual(limited.config.rateLimits.disconnectAfter);
    expect(limitedCount + unanswered).toBeGreaterThanOrEqual(260);
    // some stored messages lose their ack to the cut-off: a retry with the same clientId gets it
    const storedCount = (await stored(limited, conversation.id)).length - 1;
    expect(storedCount).toBeGreaterThanOrEqual(ok);
    expect(storedCount).toBeLessThanOrEqual(40);
    await stillServes(limited);
  });

  it("limits a conversation's messages across all its customer's sockets, not just per socket", async () => {
    const { sa, conversation, customerToken } = await pair(limited, "10.1.0.2");
    const tabs = await Promise.all([1, 2, 3].map(() => customerSocket(limited, customerToken)));
    const acks = await Promise.all(
      tabs.flatMap((tab, i) => Array.from({ length: 15 }, (_, j) => call(tab, "message:send", { clientId: `t${i}-${j}`, body: "x" }))),
    );
    const ok = acks.filter((a) => a.ok).length;
    expect(ok).toBeLessThanOrEqual(limited.config.rateLimits.conversationMessageBurst);
    expect(acks.filter((a: any) => a.error?.code === "rate_limited").length).toBe(45 - ok);
    // the customer's flood does not silence the agent
    expect((await call(sa, "message:send", { conversationId: conversation.id, clientId: clientId(), body: "agent" })).ok).toBe(true);
  });

  it("refuses typing beyond its rate", async () => {
    const { cust } = await pair(limited, "10.1.0.3");
    const acks = await Promise.all(Array.from({ length: 20 }, () => call(cust, "typing", { isTyping: true })));
    const refused = acks.filter((a: any) => a.error?.code === "rate_limited").length;
    expect(refused).toBeGreaterThanOrEqual(20 - 2 * limited.config.rateLimits.typingPerSecond);
  });

  it("caps sockets per customer and per agent, refusing the extra handshake with rate_limited", async () => {
    const { customerToken } = await startFrom(limited, "10.1.0.4");
    const { customerSockets, agentSockets } = limited.config.rateLimits;
    const tabs = await Promise.all(Array.from({ length: customerSockets }, () => customerSocket(limited, customerToken)));
    await expect(customerSocket(limited, customerToken)).rejects.toThrow("rate_limited");
    await expect(rawSocket(limited.url, { customerToken })).rejects.toThrow("rate_limited");
    tabs[0]!.disconnect();
    expect((await reconnect(() => customerSocket(limited, customerToken))).connected).toBe(true);

    const agent = await newAgent(limited);
    await Promise.all(Array.from({ length: agentSockets }, () => agentSocket(limited, agent.token)));
    await expect(agentSocket(limited, agent.token)).rejects.toThrow("rate_limited");
    // another customer is not affected
    const other = await startFrom(limited, "10.1.0.5");
    expect((await customerSocket(limited, other.customerToken)).connected).toBe(true);
  });

  it("caps the open conversations started from one address", async () => {
    const address = "10.1.0.6";
    const cap = limited.config.rateLimits.openConversationsPerAddress;
    const open = await Promise.all(Array.from({ length: cap + 3 }, () => startFrom(limited, address).catch((e: Error) => e)));
    const started = open.filter((o): o is Awaited<ReturnType<typeof startFrom>> => !(o instanceof Error));
    expect(started).toHaveLength(cap);
    const refused = await api(limited.url, "/api/conversations", { body: { name: "A", message: "hi" }, headers: { "x-forwarded-for": address } });
    expect(refused).toMatchObject({ status: 429, body: { error: { code: "rate_limited" } } });
    // another address is not affected; closing one frees a place
    await startFrom(limited, "10.1.0.7");
    const cust = await customerSocket(limited, started[0]!.customerToken);
    expect((await call(cust, "conversation:close", {})).ok).toBe(true);
    await startFrom(limited, address);
  });

  it("limits every kind of event per socket, reads included", async () => {
    const { customerToken } = await startFrom(limited, "10.1.0.20");
    const cust = await customerSocket(limited, customerToken);
    const acks = await Promise.all(Array.from({ length: 250 }, () => call(cust, "history", {})));
    const refused = acks.filter((a: any) => !a.ok && a.error.code === "rate_limited").length;
    const budget = limited.config.rateLimits.eventsPerSecond * 2;
    expect(acks.filter((a) => a.ok).length).toBeLessThanOrEqual(budget);
    expect(refused).toBeGreaterThanOrEqual(250 - budget);
    expect(cust.connected).toBe(true); // under the cut-off: refused, not disconnected
  });

  it("stops counting conversations their customers abandoned minutes ago", async () => {
    // a desk whose clock stamps every conversation ten minutes in the past
    const past = await startDesk({ env: { DESK_RATE_LIMITS: "openConversations=2" }, now: () => new Date(Date.now() - 10 * 60_000) });
    try {
      const address = "10.1.0.9";
      for (let i = 0; i < 4; i++) await startFrom(past, address); // nobody ever connected: all abandoned
      // customers who are still there keep counting, however old their conversations
      for (let i = 0; i < 2; i++) {
        const present = await startFrom(past, "10.1.0.10");
        await customerSocket(past, present.customerToken);
        // the socket's arrival marks the customer online in the store
        while (!(await past.store.getConversation(present.conversation.id))?.customer.online) await new Promise((r) => setTimeout(r, 10));
      }
      const third = await api(past.url, "/api/conversations", { body: { name: "A", message: "hi" }, headers: { "x-forwarded-for": "10.1.0.10" } });
      expect(third.status).toBe(429);
    } finally {
      await past.close();
    }
  });

  it("answers 40 wrong passwords in a row with 401 and then 429, even for the right one", async () => {
    const agent = await newAgent(limited);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await api(limited.url, "/api/auth/login", { body: { email: agent.email, password: `wrong-${i}` }, headers: { "x-forwarded-for": "10.2.0.1" } });
      statuses.push(res.status);
    }
    const failed = limited.config.rateLimits.failedLogins;
    expect(statuses.slice(0, failed).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(failed).every((s) => s === 429)).toBe(true);
    const right = await api(limited.url, "/api/auth/login", { body: { email: agent.email, password: agent.password }, headers: { "x-forwarded-for": "10.2.0.2" } });
    expect(right.status).toBe(429);
  });

  it("lets no more than the limit of wrong passwords through when they arrive all at once", async () => {
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        api(limited.url, "/api/auth/login", { body: { email: `ghost${i}@example.com`, password: "wrong" }, headers: { "x-forwarded-for": "10.2.0.3" } }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s === 401)).toHaveLength(limited.config.rateLimits.failedLogins);
    expect(statuses.filter((s) => s === 429)).toHaveLength(40 - limited.config.rateLimits.failedLogins);
  });

  it("does not count right passwords against the limit", async () => {
    const agent = await newAgent(limited);
    for (let i = 0; i < limited.config.rateLimits.failedLogins + 2; i++) {
      const res = await api(limited.url, "/api/auth/login", { body: { email: agent.email, password: agent.password }, headers: { "x-forwarded-for": "10.2.0.4" } });
      expect(res.status).toBe(200);
    }
  });
});

describe("limit configuration", () => {
  it("reads every limit from DESK_RATE_LIMITS, and refuses an unknown one", () => {
    const limits = parseRateLimits(
      "message=4/6,typing=2,starts=3,logins=4,conversationMessage=7/9,conversationTyping=5,disconnectAfter=11,customerSockets=2,agentSockets=3,openConversations=1,events=9",
    );
    expect(limits).toMatchObject({
      enabled: true,
      messagePerSecond: 4,
      messageBurst: 6,
      typingPerSecond: 2,
      startsPerMinute: 3,
      failedLogins: 4,
      conversationMessagePerSecond: 7,
      conversationMessageBurst: 9,
      conversationTypingPerSecond: 5,
      disconnectAfter: 11,
      customerSockets: 2,
      agentSockets: 3,
      openConversationsPerAddress: 1,
      eventsPerSecond: 9,
    });
    expect(parseRateLimits("")).toMatchObject({ enabled: true, customerSockets: 10, agentSockets: 20, openConversationsPerAddress: 5, disconnectAfter: 200 });
    expect(parseRateLimits("off").enabled).toBe(false);
    expect(() => parseRateLimits("sockets=5")).toThrow(/unknown limit/);
    expect(() => parseRateLimits("customerSockets=-1")).toThrow(/bad value/);
  });

  it("cuts a flooding socket off after the configured number of refusals in a row", async () => {
    const desk = await startDesk({ env: { DESK_RATE_LIMITS: "message=1/1,disconnectAfter=5" } });
    try {
      const { customerToken } = await startConversation(desk);
      const cust = await customerSocket(desk, customerToken);
      const cutOff = new Promise<string>((resolve) => cust.once("disconnect", resolve));
      const codes: string[] = [];
      for (let i = 0; i < 20; i++) cust.emit("message:send", { clientId: `f${i}`, body: "x" }, (a: any) => codes.push(a.ok ? "ok" : a.error.code));
      expect(await cutOff).toBe("io server disconnect");
      expect(codes.filter((c) => c === "rate_limited").length).toBeLessThanOrEqual(6);
    } finally {
      await desk.close();
    }
  });
});

/** Retries a connection refused at its cap until the server has seen an earlier socket go. */
async function reconnect(open: () => Promise<Client>, attempts = 50): Promise<Client> {
  for (let i = 1; ; i++) {
    try {
      return await open();
    } catch (err) {
      if (i >= attempts) throw err;
    }
  }
}
