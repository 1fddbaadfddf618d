/**
 * A livedesk client written only from SPEC.md (sections 1–3 and the limits of 6):
 * plain `fetch` + `socket.io-client`, no imports from the project's own code.
 *
 * `runSpecFlow` drives one whole support conversation end to end and checks every rule
 * it meets on the way. It never stops at the first failure: each step group records its
 * checks in the report, so a test can point at the exact rule that was broken.
 */
import { io, type Socket } from "socket.io-client";

export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

export interface GroupReport {
  id: GroupId;
  title: string;
  checks: Check[];
  ms: number;
}

export interface Report {
  baseUrl: string;
  groups: GroupReport[];
  ms: number;
}

/** Step groups, in the order the flow runs them; the test file has one `it` per group. */
export const SPEC_GROUPS = [
  ["ops", "GET /healthz, /readyz and /metrics answer as the operator endpoints"],
  ["startConversation", "POST /api/conversations creates a queued conversation whose message is seq 1"],
  ["httpErrors", "HTTP refuses bad input with JSON errors, the field limits and 413 over 16 KiB"],
  ["agentAuth", "agents log in (token + httpOnly cookie), /api/me, /api/agents, admin-only agent creation"],
  ["socketAuth", "socket handshake: bad or missing credentials fail with connect_error \"unauthorized\""],
  ["queue", "queue:list gives queued conversations oldest first; agent-only events refused to customers"],
  ["claimRace", "two agents claiming at once: exactly one ok, the other already_claimed; everyone is told"],
  ["invalidPayload", "schema violations get invalid_payload and change nothing"],
  ["messaging", "message:send both ways: acks, contiguous seq, message:new reaches the other party"],
  ["typing", "typing reaches the other side of the room and never the sender"],
  ["idempotency", "message:send retried with the same clientId returns the stored message and broadcasts nothing"],
  ["history", "history after a gap returns exactly the missed messages, in order (socket and HTTP)"],
  ["customerBinding", "a customer is bound to its own conversation: foreign conversationId ignored, others' data refused"],
  ["releaseClaim", "only the assignee (or an admin) sends/releases/closes; release requeues, then another agent claims"],
  ["presence", "presence:set is broadcast to agents and to the customers of the agent's conversations"],
  ["close", "close by the assignee or the customer; afterwards message:send gives conversation_closed"],
  ["frameLimit", "a Socket.IO frame over 64 KiB is refused without hurting the server"],
  ["logout", "POST /api/auth/logout answers 204"],
] as const;

export type GroupId = (typeof SPEC_GROUPS)[number][0];

/* ------------------------------------------------------------------ helpers */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ACK_TIMEOUT = 2500;
const EVENT_TIMEOUT = 2500;

function rnd(): string {
  return Math.random().toString(36).slice(2, 10);
}

function short(v: unknown, max = 400): string {
  let s: string;
  try {
    s = typeof v === "string" ? v : JSON.stringify(v);
  } catch {
    s = String(v);
  }
  if (s === undefined) s = String(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}

class Group {
  checks: Check[] = [];
  constructor(readonly id: GroupId) {}
  check(name: string, ok: boolean, detail?: unknown): boolean {
    this.checks.push({ name, ok, detail: ok ? undefined : short(detail) });
    return ok;
  }
  eq(name: string, actual: unknown, expected: unknown): boolean {
    const ok = JSON.stringify(actual) === JSON.stringify(expected);
    return this.check(name, ok, `expected ${short(expected)}, got ${short(actual)}`);
  }
  /** An ack `{ ok: true, ... }`. */
  ackOk(name: string, ack: Json): boolean {
    return this.check(name, !!ack && ack.ok === true, `ack ${short(ack)}`);
  }
  /** An ack `{ ok: false, error: { code, message } }` with one of the codes. */
  ackErr(name: string, ack: Json, ...codes: string[]): boolean {
    const ok =
      !!ack &&
      ack.ok === false &&
      typeof ack.error?.code === "string" &&
      typeof ack.error?.message === "string" &&
      codes.includes(ack.error.code);
    return this.check(name, ok, `expected ok:false with code ${codes.join("|")}, got ${short(ack)}`);
  }
}

interface HttpResult {
  status: number;
  contentType: string;
  setCookie: string[];
  text: string;
  json: Json;
}

interface HttpOptions {
  body?: unknown;
  raw?: string;
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

function isJsonError(r: HttpResult): boolean {
  return (
    r.contentType.includes("application/json") &&
    !!r.json &&
    typeof r.json.error === "object" &&
    typeof r.json.error.code === "string" &&
    typeof r.json.error.message === "string"
  );
}

function describe(r: HttpResult): string {
  return `${r.status} ${r.contentType} ${short(r.text, 300)}`;
}

function isIso(s: unknown): boolean {
  return typeof s === "string" && /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s));
}

/** Problems with a value claimed to be a `Conversation`, or [] when it fits. */
function conversationProblems(c: Json): string[] {
  const p: string[] = [];
  if (!c || typeof c !== "object") return ["not an object"];
  if (typeof c.id !== "string" || !c.id) p.push("id");
  if (!["queued", "assigned", "closed"].includes(c.status)) p.push(`status=${short(c.status)}`);
  if (!c.customer || typeof c.customer.name !== "string" || typeof c.customer.online !== "boolean")
    p.push(`customer=${short(c.customer)}`);
  if (c.topic !== undefined && typeof c.topic !== "string") p.push("topic");
  if (!(c.assignee === null || (typeof c.assignee?.id === "string" && typeof c.assignee?.name === "string")))
    p.push(`assignee=${short(c.assignee)}`);
  if (!isIso(c.createdAt)) p.push(`createdAt=${short(c.createdAt)}`);
  if (!isIso(c.updatedAt)) p.push(`updatedAt=${short(c.updatedAt)}`);
  if (typeof c.lastSeq !== "number") p.push(`lastSeq=${short(c.lastSeq)}`);
  return p;
}

function messageProblems(m: Json): string[] {
  const p: string[] = [];
  if (!m || typeof m !== "object") return ["not an object"];
  if (typeof m.id !== "string" || !m.id) p.push("id");
  if (typeof m.conversationId !== "string") p.push("conversationId");
  if (!Number.isInteger(m.seq) || m.seq < 1) p.push(`seq=${short(m.seq)}`);
  if (m.clientId !== undefined && typeof m.clientId !== "string") p.push("clientId");
  if (!m.author || !["customer", "agent", "system"].includes(m.author.role) || typeof m.author.name !== "string")
    p.push(`author=${short(m.author)}`);
  if (typeof m.body !== "string") p.push("body");
  if (!isIso(m.createdAt)) p.push(`createdAt=${short(m.createdAt)}`);
  return p;
}

/** Records every server→client event of one socket so tests can await or rule out events. */
class Probe {
  readonly events: { ev: string; data: Json }[] = [];
  private waiters: { ev: string; from: number; pred: (d: Json) => boolean; resolve: (d: Json) => void }[] = [];
  constructor(readonly socket: Socket, readonly label: string) {
    socket.onAny((ev: string, ...args: unknown[]) => {
      this.events.push({ ev, data: args[0] });
      const idx = this.events.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (w.ev === ev && idx >= w.from && safe(w.pred, args[0])) {
          w.resolve(args[0]);
          return false;
        }
        return true;
      });
    });
  }
  mark(): number {
    return this.events.length;
  }
  since(mark: number, ev: string, pred: (d: Json) => boolean = () => true): Json[] {
    return this.events.slice(mark).filter((e) => e.ev === ev && safe(pred, e.data)).map((e) => e.data);
  }
  /** Resolves with the first matching event at or after `from` (already received or future). */
  wait(ev: string, pred: (d: Json) => boolean = () => true, from = 0, timeout = EVENT_TIMEOUT): Promise<Json> {
    const hit = this.events.slice(from).find((e) => e.ev === ev && safe(pred, e.data));
    if (hit) return Promise.resolve(hit.data);
    return new Promise((resolve, reject) => {
      const w = { ev, from, pred, resolve: (d: Json) => (clearTimeout(t), resolve(d)) };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`${this.label}: no "${ev}" matching within ${timeout} ms`));
      }, timeout);
      this.waiters.push(w);
    });
  }
  emit(ev: string, payload: unknown, timeout = ACK_TIMEOUT): Promise<Json> {
    return this.socket
      .timeout(timeout)
      .emitWithAck(ev, payload)
      .catch((e: Error) => ({ __noAck: true, error: { code: "(no ack)", message: e.message } }));
  }
}

function safe(pred: (d: Json) => boolean, d: Json): boolean {
  try {
    return pred(d);
  } catch {
    return false;
  }
}

function connect(baseUrl: string, auth: Record<string, unknown> | undefined, label: string): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = io(baseUrl, {
      auth,
      transports: ["websocket"],
      reconnection: false,
      forceNew: true,
      timeout: 4000,
    });
    const probe = new Probe(socket, label);
    socket.once("connect", () => resolve(probe));
    socket.once("connect_error", (err: Error) => {
      socket.close();
      reject(err);
    });
  });
}

/** Resolves with the connect_error message, or "(connected)" when the handshake was accepted. */
function connectError(baseUrl: string, auth: Record<string, unknown> | undefined): Promise<string> {
  return connect(baseUrl, auth, "bad").then(
    (p) => {
      p.socket.close();
      return "(connected)";
    },
    (err: Error) => err.message,
  );
}

/* --------------------------------------------------------------------- flow */

export async function runSpecFlow(baseUrl: string, admin: { email: string; password: string }): Promise<Report> {
  const started = Date.now();
  const groups: GroupReport[] = [];
  const sockets: Probe[] = [];

  async function http(method: string, path: string, o: HttpOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { ...o.headers };
    let body: string | undefined;
    if (o.raw !== undefined) body = o.raw;
    else if (o.body !== undefined) body = JSON.stringify(o.body);
    if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.cookie) headers.cookie = o.cookie;
    const res = await fetch(baseUrl + path, { method, headers, body });
    const text = await res.text();
    let json: Json = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      status: res.status,
      contentType: res.headers.get("content-type") ?? "",
      setCookie: res.headers.getSetCookie?.() ?? [],
      text,
      json,
    };
  }

  async function group(id: GroupId, fn: (g: Group) => Promise<void>): Promise<void> {
    const g = new Group(id);
    const t0 = Date.now();
    try {
      await fn(g);
    } catch (err) {
      g.check("step ran to the end", false, err instanceof Error ? err.message : err);
    }
    const title = SPEC_GROUPS.find(([gid]) => gid === id)![1];
    groups.push({ id, title, checks: g.checks, ms: Date.now() - t0 });
  }

  async function open(auth: Record<string, unknown>, label: string): Promise<Probe> {
    const p = await connect(baseUrl, auth, label);
    sockets.push(p);
    return p;
  }

  /** A round trip on `p`, so that anything the server sent it before is already in its buffer. */
  async function roundTrip(p: Probe, asCustomer: boolean): Promise<void> {
    await p.emit(asCustomer ? "history" : "queue:list", asCustomer ? { afterSeq: 1_000_000 } : {});
  }

  // State shared by the steps.
  const customerName = `Ada ${rnd()}`;
  const firstClientId = `first-${rnd()}`;
  const firstBody = "Hello, my order has not arrived.";
  let conv: Json = null; // the main conversation
  let customerToken = "";
  let conv2: Json = null; // a second conversation (field limits at their maximum)
  let customer2Token = "";
  let adminToken = "";
  let adminAgent: Json = null;
  const agentA = { email: `a-${rnd()}@example.com`, name: `Agent A ${rnd()}`, password: `pw-A-${rnd()}-long-enough`, id: "", token: "" };
  const agentB = { email: `b-${rnd()}@example.com`, name: `Agent B ${rnd()}`, password: `pw-B-${rnd()}-long-enough`, id: "", token: "" };
  let cust: Probe | null = null;
  let cust2: Probe | null = null;
  let sa: Probe | null = null;
  let sb: Probe | null = null;
  let sadm: Probe | null = null;
  let winner: Probe | null = null; // assignee socket after the race
  let loser: Probe | null = null;
  let winnerAgent = agentA;
  let loserAgent = agentB;
  let lastSeq = 1; // highest seq the flow knows of in `conv`
  const need = <T>(v: T | null, what: string): T => {
    if (v === null || v === undefined || v === "") throw new Error(`cannot run: ${what} missing after an earlier failure`);
    return v;
  };

  try {
    /* ------------------------------------------------------------ ops */
    await group("ops", async (g) => {
      const h = await http("GET", "/healthz");
      g.eq("GET /healthz status", h.status, 200);
      g.eq("GET /healthz body", h.json, { status: "ok" });
      const r = await http("GET", "/readyz");
      g.eq("GET /readyz status (in-process store answers)", r.status, 200);
      const m = await http("GET", "/metrics");
      g.eq("GET /metrics status", m.status, 200);
      g.check("GET /metrics is text/plain (Prometheus text format)", m.contentType.startsWith("text/plain"), m.contentType);
      g.check(
        "GET /metrics has # TYPE lines and samples",
        /^# TYPE \S+ (counter|gauge|histogram|summary|untyped)$/m.test(m.text) && /^[a-zA-Z_:][\w:]*(\{[^}]*\})? -?[\d.eE+-]+|NaN/m.test(m.text),
        m.text.slice(0, 300),
      );
    });

    /* ------------------------------------------------------------ start a conversation */
    await group("startConversation", async (g) => {
      const r = await http("POST", "/api/conversations", {
        body: { name: customerName, email: "ada@example.com", topic: "Shipping", message: firstBody, clientId: firstClientId },
      });
      g.eq("POST /api/conversations status", r.status, 201);
      g.check("response has conversation and customerToken", !!r.json?.conversation && typeof r.json?.customerToken === "string" && r.json.customerToken.length > 0, describe(r));
      conv = r.json?.conversation ?? null;
      customerToken = r.json?.customerToken ?? "";
      g.eq("conversation fits the Conversation shape", conversationProblems(conv), []);
      g.eq("new conversation is queued", conv?.status, "queued");
      g.eq("new conversation has no assignee", conv?.assignee, null);
      g.eq("customer name kept", conv?.customer?.name, customerName);
      g.eq("customer email kept", conv?.customer?.email, "ada@example.com");
      g.eq("topic kept", conv?.topic, "Shipping");
      g.eq("first message is seq 1 (lastSeq)", conv?.lastSeq, 1);
      // A second, older-than-nothing conversation with every field at its upper limit.
      const r2 = await http("POST", "/api/conversations", {
        body: { name: "n".repeat(80), topic: "t".repeat(120), message: "m".repeat(4000), email: "max@example.com" },
      });
      g.eq("name 80 / topic 120 / message 4000 chars accepted (201)", r2.status, 201);
      conv2 = r2.json?.conversation ?? null;
      customer2Token = r2.json?.customerToken ?? "";
      const r3 = await http("POST", "/api/conversations", { body: { name: "No Email", message: "hi" } });
      g.eq("email and topic are optional (201)", r3.status, 201);
    });

    /* ------------------------------------------------------------ HTTP errors */
    await group("httpErrors", async (g) => {
      const bad = async (label: string, path: string, body: unknown, expectStatuses: number[] = [400, 422]) => {
        const r = await http("POST", path, { body });
        g.check(`${label} → ${expectStatuses.join("/")} JSON {error:{code,message}}`, expectStatuses.includes(r.status) && isJsonError(r), describe(r));
      };
      const ok = { name: "Bob", message: "hi" };
      await bad("missing name", "/api/conversations", { message: "hi" });
      await bad("empty name", "/api/conversations", { ...ok, name: "" });
      await bad("name of 81 characters", "/api/conversations", { ...ok, name: "n".repeat(81) });
      await bad("name not a string", "/api/conversations", { ...ok, name: 42 });
      await bad("topic of 121 characters", "/api/conversations", { ...ok, topic: "t".repeat(121) });
      await bad("missing message", "/api/conversations", { name: "Bob" });
      await bad("empty message", "/api/conversations", { ...ok, message: "" });
      await bad("message of 4001 characters", "/api/conversations", { ...ok, message: "m".repeat(4001) });
      await bad("invalid email", "/api/conversations", { ...ok, email: "not-an-email" });
      await bad("body that is a JSON array", "/api/conversations", [ok]);
      const malformed = await http("POST", "/api/conversations", { raw: '{"name": "Bob", "message": ' });
      g.check("malformed JSON → 400 JSON error", malformed.status === 400 && isJsonError(malformed), describe(malformed));
      const big = await http("POST", "/api/conversations", { body: { name: "Bob", message: "hi", pad: "x".repeat(17 * 1024) } });
      g.check("body over 16 KiB → 413 JSON error", big.status === 413 && isJsonError(big), describe(big));
      const bigLogin = await http("POST", "/api/auth/login", { body: { email: "a@example.com", password: "x".repeat(17 * 1024) } });
      g.check("login body over 16 KiB → 413 JSON error", bigLogin.status === 413 && isJsonError(bigLogin), describe(bigLogin));
      const under = await http("POST", "/api/conversations", { body: { name: "Bob", message: "hi", pad: "x".repeat(15 * 1024) } });
      g.eq("body just under 16 KiB with an extra field is not refused for size", under.status, 201);
      const wrongType = await http("POST", "/api/conversations", { raw: "name=Bob&message=hi", headers: { "content-type": "application/x-www-form-urlencoded" } });
      g.check("non-JSON body (form-encoded) → 4xx JSON error, nothing created", wrongType.status >= 400 && wrongType.status < 500 && isJsonError(wrongType), describe(wrongType));
      const badUri = await http("GET", "/api/conversations/%E0%A4%A/messages");
      g.check("malformed percent-encoding in an /api path → 4xx JSON error (not HTML)", badUri.status >= 400 && badUri.status < 500 && isJsonError(badUri), describe(badUri));
      const unknown = await http("GET", "/api/does-not-exist");
      g.check("unknown /api route → 404 JSON error", unknown.status === 404 && isJsonError(unknown), describe(unknown));
      const me = await http("GET", "/api/me");
      g.check("GET /api/me without credentials → 401 JSON error", me.status === 401 && isJsonError(me), describe(me));
      const meBad = await http("GET", "/api/me", { token: "forged.token.value" });
      g.check("GET /api/me with a forged bearer token → 401 JSON error", meBad.status === 401 && isJsonError(meBad), describe(meBad));
      const msgs = await http("GET", `/api/conversations/${encodeURIComponent(need(conv, "conversation").id)}/messages`);
      g.check("GET messages without credentials → 401 JSON error", msgs.status === 401 && isJsonError(msgs), describe(msgs));
    });

    /* ------------------------------------------------------------ agent auth */
    await group("agentAuth", async (g) => {
      const wrong = await http("POST", "/api/auth/login", { body: { email: admin.email, password: `${admin.password}-wrong` } });
      g.check("wrong password → 401 JSON error", wrong.status === 401 && isJsonError(wrong), describe(wrong));
      const noUser = await http("POST", "/api/auth/login", { body: { email: `nobody-${rnd()}@example.com`, password: "whatever-password" } });
      g.check("unknown email → 401 JSON error", noUser.status === 401 && isJsonError(noUser), describe(noUser));
      const badShape = await http("POST", "/api/auth/login", { body: { email: admin.email } });
      g.check("login without password → 400/422 JSON error", [400, 422].includes(badShape.status) && isJsonError(badShape), describe(badShape));

      const login = await http("POST", "/api/auth/login", { body: admin });
      g.eq("admin login status", login.status, 200);
      g.check("login answers { agent, token }", typeof login.json?.token === "string" && typeof login.json?.agent?.id === "string", describe(login));
      adminToken = login.json?.token ?? "";
      adminAgent = login.json?.agent ?? null;
      const cookie = login.setCookie.find((c) => /httponly/i.test(c));
      g.check("login sets an httpOnly session cookie", !!cookie, login.setCookie);
      g.check("login response does not leak a password hash", !/scrypt|passwordHash|"password"/i.test(login.text), login.text);

      const me = await http("GET", "/api/me", { token: adminToken });
      g.check("GET /api/me with Bearer → 200 { agent }", me.status === 200 && me.json?.agent?.id === adminAgent?.id, describe(me));
      if (cookie) {
        const pair = cookie.split(";")[0]!;
        const meCookie = await http("GET", "/api/me", { cookie: pair });
        g.check("GET /api/me with the session cookie → 200 { agent }", meCookie.status === 200 && meCookie.json?.agent?.id === adminAgent?.id, describe(meCookie));
      }

      for (const a of [agentA, agentB]) {
        const c = await http("POST", "/api/agents", { token: adminToken, body: { email: a.email, name: a.name, password: a.password } });
        g.check(`admin POST /api/agents → 201 { agent } (${a.name})`, c.status === 201 && c.json?.agent?.email === a.email && c.json?.agent?.name === a.name, describe(c));
        g.check("created agent does not expose its password", !c.text.includes(a.password), c.text);
        const l = await http("POST", "/api/auth/login", { body: { email: a.email, password: a.password } });
        g.check(`new agent logs in (${a.name})`, l.status === 200 && typeof l.json?.token === "string", describe(l));
        a.token = l.json?.token ?? "";
        a.id = l.json?.agent?.id ?? c.json?.agent?.id ?? "";
      }
      const byAgent = await http("POST", "/api/agents", {
        token: agentA.token,
        body: { email: `x-${rnd()}@example.com`, name: "Sneaky", password: "sneaky-password-123" },
      });
      g.check("non-admin POST /api/agents → 403 JSON error", byAgent.status === 403 && isJsonError(byAgent), describe(byAgent));
      const anon = await http("POST", "/api/agents", { body: { email: `y-${rnd()}@example.com`, name: "Anon", password: "anon-password-123" } });
      g.check("anonymous POST /api/agents → 401 JSON error", anon.status === 401 && isJsonError(anon), describe(anon));
      const badEmail = await http("POST", "/api/agents", { token: adminToken, body: { email: "nope", name: "Bad", password: "bad-password-123" } });
      g.check("POST /api/agents with an invalid email → 400/422 JSON error", [400, 422].includes(badEmail.status) && isJsonError(badEmail), describe(badEmail));
      const longName = await http("POST", "/api/agents", { token: adminToken, body: { email: `z-${rnd()}@example.com`, name: "n".repeat(81), password: "long-name-password-1" } });
      g.check("POST /api/agents with an 81-character name → 400/422 JSON error", [400, 422].includes(longName.status) && isJsonError(longName), describe(longName));

      const dup = await http("POST", "/api/agents", { token: adminToken, body: { email: agentA.email, name: "Dup", password: "dup-password-1234" } });
      g.check("POST /api/agents with an email already taken → 4xx JSON error", dup.status >= 400 && dup.status < 500 && isJsonError(dup), describe(dup));
      const badRole = await http("POST", "/api/agents", { token: adminToken, body: { email: `r-${rnd()}@example.com`, name: "Role", password: "role-password-1234", role: "superuser" } });
      g.check("POST /api/agents with an unknown role → 400/422 JSON error", [400, 422].includes(badRole.status) && isJsonError(badRole), describe(badRole));
      const list = await http("GET", "/api/agents", { token: agentA.token });
      const agents: Json[] = Array.isArray(list.json?.agents) ? list.json.agents : [];
      g.check("GET /api/agents → 200 { agents }", list.status === 200 && agents.length >= 3, describe(list));
      const listedA = agents.find((x) => x.id === agentA.id);
      g.check("GET /api/agents lists the new agents", !!listedA && agents.some((x) => x.id === agentB.id), agents.map((x) => x.email));
      g.check("GET /api/agents carries presence", agents.every((x) => x.presence !== undefined || x.status !== undefined || x.online !== undefined), agents[0]);
      const anonList = await http("GET", "/api/agents");
      g.check("GET /api/agents without credentials → 401 JSON error", anonList.status === 401 && isJsonError(anonList), describe(anonList));
    });

    /* ------------------------------------------------------------ socket auth */
    await group("socketAuth", async (g) => {
      g.eq("no auth → connect_error unauthorized", await connectError(baseUrl, undefined), "unauthorized");
      g.eq("empty auth → connect_error unauthorized", await connectError(baseUrl, {}), "unauthorized");
      g.eq("forged customerToken → connect_error unauthorized", await connectError(baseUrl, { customerToken: "forged-token" }), "unauthorized");
      g.eq("forged agentToken → connect_error unauthorized", await connectError(baseUrl, { agentToken: "forged-token" }), "unauthorized");
      g.eq("customerToken used as agentToken → connect_error unauthorized", await connectError(baseUrl, { agentToken: need(customerToken, "customer token") }), "unauthorized");
      g.eq("agentToken used as customerToken → connect_error unauthorized", await connectError(baseUrl, { customerToken: need(agentA.token, "agent token") }), "unauthorized");
      g.eq("non-string customerToken → connect_error unauthorized", await connectError(baseUrl, { customerToken: 12345 }), "unauthorized");
      const tampered = customerToken.slice(0, -2) + (customerToken.endsWith("aa") ? "bb" : "aa");
      g.eq("tampered customerToken → connect_error unauthorized", await connectError(baseUrl, { customerToken: tampered }), "unauthorized");

      const l = await http("POST", "/api/auth/login", { body: { email: agentB.email, password: agentB.password } });
      const pair = l.setCookie.find((x) => /httponly/i.test(x))?.split(";")[0];
      if (g.check("login gave a session cookie for the cookie handshake", !!pair, l.setCookie)) {
        const viaCookie = await new Promise<Probe | string>((resolve) => {
          const socket = io(baseUrl, { transports: ["websocket"], reconnection: false, forceNew: true, extraHeaders: { cookie: pair! } });
          const p = new Probe(socket, "cookie-agent");
          socket.once("connect", () => resolve(p));
          socket.once("connect_error", (e: Error) => (socket.close(), resolve(e.message)));
        });
        if (g.check("an agent socket may authenticate with the session cookie alone", typeof viaCookie === "object", viaCookie)) {
          const p = viaCookie as Probe;
          sockets.push(p);
          g.ackOk("cookie-authenticated socket acts as an agent (queue:list ok)", await p.emit("queue:list", {}));
        }
      }
      cust = await open({ customerToken }, "customer");
      g.check("customer connects with auth.customerToken", cust.socket.connected);
      sa = await open({ agentToken: agentA.token }, "agentA");
      sb = await open({ agentToken: agentB.token }, "agentB");
      g.check("both agents connect with auth.agentToken", sa.socket.connected && sb.socket.connected);
      sadm = await open({ agentToken: adminToken }, "admin");
      cust2 = await open({ customerToken: need(customer2Token, "second customer token") }, "customer2");
      g.check("admin and a second customer connect", sadm.socket.connected && cust2.socket.connected);
    });

    /* ------------------------------------------------------------ queue */
    await group("queue", async (g) => {
      const a = need(sa, "agent A socket");
      const c = need(cust, "customer socket");
      const ack = await a.emit("queue:list", {});
      g.ackOk("queue:list {} → ok", ack);
      const list: Json[] = Array.isArray(ack?.conversations) ? ack.conversations : [];
      g.check("queue:list contains the new conversation", list.some((x) => x.id === conv?.id), list.map((x) => x.id));
      g.check("queue:list contains only queued conversations", list.length > 0 && list.every((x) => x.status === "queued"), list.map((x) => x.status));
      const times = list.map((x) => Date.parse(x.createdAt));
      g.check("queue:list is oldest first", times.every((t, i) => i === 0 || times[i - 1]! <= t), list.map((x) => x.createdAt));
      const i1 = list.findIndex((x) => x.id === conv?.id);
      const i2 = list.findIndex((x) => x.id === conv2?.id);
      g.check("the earlier conversation is listed before the later one", i1 >= 0 && i2 > i1, { i1, i2 });
      g.eq("queued conversations fit the Conversation shape", list.flatMap(conversationProblems), []);

      // queue:position reaches the customer while queued (SPEC does not say when; we allow until now + 1.5 s).
      const pos = await c.wait("queue:position", () => true, 0, 1500).catch(() => null);
      g.check("customer receives queue:position while queued", !!pos && Number.isInteger(pos.position) && pos.position >= 1, pos ?? "nothing within 1.5 s of connecting");

      g.ackErr("customer queue:list → refused (forbidden/unauthorized)", await c.emit("queue:list", {}), "forbidden", "unauthorized");
      g.ackErr("customer conversation:claim → refused (forbidden/unauthorized)", await c.emit("conversation:claim", { conversationId: conv?.id }), "forbidden", "unauthorized");
      g.ackErr("customer conversation:list → refused (forbidden/unauthorized)", await c.emit("conversation:list", {}), "forbidden", "unauthorized");
      g.ackErr("customer presence:set → refused (forbidden/unauthorized)", await c.emit("presence:set", { status: "away" }), "forbidden", "unauthorized");

      const ql = await a.emit("conversation:list", { status: "queued" });
      g.ackOk("conversation:list { status: queued } → ok", ql);
      g.check("conversation:list { status: queued } lists only queued ones and includes ours",
        Array.isArray(ql?.conversations) && ql.conversations.every((x: Json) => x.status === "queued") && ql.conversations.some((x: Json) => x.id === conv?.id),
        ql);
      g.ackErr("conversation:claim of an unknown id → not_found", await a.emit("conversation:claim", { conversationId: `nope-${rnd()}` }), "not_found");
    });

    /* ------------------------------------------------------------ claim race */
    await group("claimRace", async (g) => {
      const a = need(sa, "agent A socket");
      const b = need(sb, "agent B socket");
      const c = need(cust, "customer socket");
      const cm = c.mark();
      const am = a.mark();
      const bm = b.mark();
      const [ra, rb] = await Promise.all([
        a.emit("conversation:claim", { conversationId: conv.id }),
        b.emit("conversation:claim", { conversationId: conv.id }),
      ]);
      const oks = [ra, rb].filter((r) => r?.ok === true).length;
      g.eq("exactly one of two simultaneous claims succeeds", oks, 1);
      const [wAck, lAck] = ra?.ok === true ? [ra, rb] : [rb, ra];
      if (rb?.ok === true && ra?.ok !== true) {
        winner = b;
        loser = a;
        winnerAgent = agentB;
        loserAgent = agentA;
      } else {
        winner = a;
        loser = b;
      }
      g.ackErr("the other claimer gets already_claimed", lAck, "already_claimed");
      const won = wAck?.conversation;
      g.eq("claim ack conversation fits the Conversation shape", conversationProblems(won), []);
      g.eq("claimed conversation is assigned", won?.status, "assigned");
      g.eq("assignee is the winning agent", won?.assignee?.id, winnerAgent.id);
      g.eq("assignee carries the agent's name", won?.assignee?.name, winnerAgent.name);
      g.eq("customer.online is true while the customer's socket is connected", won?.customer?.online, true);
      const isAssigned = (x: Json) => x?.id === conv.id && x?.status === "assigned" && x?.assignee?.id === winnerAgent.id;
      for (const [p, m, who] of [[c, cm, "customer"], [a, am, "agent A"], [b, bm, "agent B"]] as const) {
        const got = await p.wait("conversation:updated", isAssigned, m).catch((e: Error) => e.message);
        g.check(`${who} receives conversation:updated (assigned)`, typeof got === "object", got);
      }
      const again = await need(loser, "loser").emit("conversation:claim", { conversationId: conv.id });
      g.ackErr("a later claim of an assigned conversation → already_claimed", again, "already_claimed");
      const q = await a.emit("queue:list", {});
      g.check("claimed conversation leaves the queue", Array.isArray(q?.conversations) && !q.conversations.some((x: Json) => x.id === conv.id), q);
      const mine = await need(winner, "winner").emit("conversation:list", { mine: true });
      g.check("conversation:list { mine: true } lists it for the assignee", Array.isArray(mine?.conversations) && mine.conversations.some((x: Json) => x.id === conv.id), mine);
      const notMine = await need(loser, "loser").emit("conversation:list", { mine: true });
      g.check("conversation:list { mine: true } does not list it for the other agent", Array.isArray(notMine?.conversations) && !notMine.conversations.some((x: Json) => x.id === conv.id), notMine);
    });

    /* ------------------------------------------------------------ invalid payloads */
    await group("invalidPayload", async (g) => {
      const c = need(cust, "customer socket");
      const w = need(winner, "assignee socket");
      const l = need(loser, "other agent socket");
      const cm = c.mark();
      const wm = w.mark();
      const id = conv.id;
      const cases: [Probe, string, string, unknown][] = [
        [c, "customer", "message:send", { clientId: `c-${rnd()}`, body: 123 }],
        [c, "customer", "message:send", { clientId: `c-${rnd()}`, body: "" }],
        [c, "customer", "message:send", { clientId: `c-${rnd()}`, body: "x".repeat(4001) }],
        [c, "customer", "message:send", { body: "no clientId" }],
        [c, "customer", "message:send", { clientId: 7, body: "numeric clientId" }],
        [c, "customer", "message:send", null],
        [c, "customer", "message:send", "just a string"],
        [c, "customer", "typing", { isTyping: "yes" }],
        [c, "customer", "typing", {}],
        [c, "customer", "history", { afterSeq: "zero" }],
        [c, "customer", "history", { afterSeq: -1 }],
        [w, "assignee", "message:send", { clientId: `a-${rnd()}`, body: "missing conversationId" }],
        [w, "assignee", "message:send", { conversationId: id, clientId: `a-${rnd()}`, body: "" }],
        [w, "assignee", "message:send", { conversationId: id, clientId: `a-${rnd()}`, body: "x".repeat(4001) }],
        [w, "assignee", "message:send", { conversationId: 42, clientId: `a-${rnd()}`, body: "numeric id" }],
        [w, "assignee", "typing", { conversationId: id, isTyping: 1 }],
        [w, "assignee", "typing", { isTyping: true }],
        [w, "assignee", "history", { afterSeq: 0 }],
        [w, "assignee", "conversation:claim", {}],
        [w, "assignee", "conversation:claim", { conversationId: [conv2?.id] }],
        [w, "assignee", "conversation:release", { conversationId: { $ne: null } }],
        [w, "assignee", "conversation:close", {}],
        [w, "assignee", "conversation:list", { mine: "yes" }],
        [w, "assignee", "presence:set", { status: "busy" }],
        [l, "other agent", "presence:set", {}],
      ];
      for (const [p, who, ev, payload] of cases) {
        g.ackErr(`${who} ${ev} ${short(payload, 60)} → invalid_payload`, await p.emit(ev, payload), "invalid_payload");
      }
      // Changed nothing: no messages, no typing, no state change, no claim of conv2.
      await roundTrip(c, true);
      await roundTrip(w, false);
      g.eq("no message:new reached the customer", c.since(cm, "message:new"), []);
      g.eq("no message:new reached the assignee", w.since(wm, "message:new"), []);
      g.eq("no typing reached the assignee", w.since(wm, "typing"), []);
      const h = await w.emit("history", { conversationId: id, afterSeq: 0 });
      g.eq("conversation still at lastSeq 1 with one message", [h?.conversation?.lastSeq, h?.messages?.length], [1, 1]);
      g.eq("conversation still assigned to the same agent", [h?.conversation?.status, h?.conversation?.assignee?.id], ["assigned", winnerAgent.id]);
      const h2 = await w.emit("history", { conversationId: conv2?.id });
      g.eq("the other conversation is still queued", h2?.conversation?.status, "queued");
      const health = await http("GET", "/healthz");
      g.eq("server still healthy", health.status, 200);
    });

    /* ------------------------------------------------------------ messaging */
    await group("messaging", async (g) => {
      const c = need(cust, "customer socket");
      const w = need(winner, "assignee socket");
      const h0 = await w.emit("history", { conversationId: conv.id, afterSeq: 0 });
      g.ackOk("assignee history → ok", h0);
      const first = h0?.messages?.[0];
      g.eq("first message fits the Message shape", messageProblems(first), []);
      g.eq("POST message is seq 1 with the customer as author", [first?.seq, first?.body, first?.author?.role, first?.author?.name], [1, firstBody, "customer", customerName]);
      g.eq("POST clientId is kept on seq 1", first?.clientId, firstClientId);

      let expectSeq = 2;
      const sent: Json[] = [first];
      for (let i = 0; i < 3; i++) {
        // customer → agent
        const wm = w.mark();
        const clientId = `cust-${i}-${rnd()}`;
        const body = `customer says ${i} <script>alert(1)</script>`;
        const ack = await c.emit("message:send", { clientId, body });
        g.ackOk(`customer message:send #${i} → ok`, ack);
        const m = ack?.message;
        g.eq(`customer message #${i} fits the Message shape`, messageProblems(m), []);
        g.eq(`customer message #${i} seq is contiguous`, m?.seq, expectSeq);
        g.eq(`customer message #${i} keeps clientId, body, conversationId, author`, [m?.clientId, m?.body, m?.conversationId, m?.author?.role, m?.author?.name], [clientId, body, conv.id, "customer", customerName]);
        const got = await w.wait("message:new", (x) => x.id === m?.id, wm).catch((e: Error) => e.message);
        g.check(`assignee receives message:new for customer message #${i}`, typeof got === "object", got);
        g.eq(`message:new for #${i} equals the ack`, got?.seq === m?.seq && got?.body === m?.body, true);
        sent.push(m);
        expectSeq++;
        // agent → customer
        const cm = c.mark();
        const aClientId = `agent-${i}-${rnd()}`;
        const aBody = `agent answers ${i}`;
        const aAck = await w.emit("message:send", { conversationId: conv.id, clientId: aClientId, body: aBody });
        g.ackOk(`assignee message:send #${i} → ok`, aAck);
        const am = aAck?.message;
        g.eq(`agent message #${i} fits the Message shape`, messageProblems(am), []);
        g.eq(`agent message #${i} seq is contiguous`, am?.seq, expectSeq);
        g.eq(`agent message #${i} author is the agent`, [am?.author?.role, am?.author?.id, am?.author?.name], ["agent", winnerAgent.id, winnerAgent.name]);
        g.eq(`agent message #${i} keeps clientId and body`, [am?.clientId, am?.body], [aClientId, aBody]);
        const cgot = await c.wait("message:new", (x) => x.id === am?.id, cm).catch((e: Error) => e.message);
        g.check(`customer receives message:new for agent message #${i}`, typeof cgot === "object", cgot);
        sent.push(am);
        expectSeq++;
      }
      // 4000 two-byte characters: the limit is in characters.
      const wide = await c.emit("message:send", { clientId: `wide-${rnd()}`, body: "é".repeat(4000) });
      g.ackOk("a 4000-character body of non-ASCII characters is accepted", wide);
      if (wide?.ok) expectSeq++;
      lastSeq = expectSeq - 1;
      const h = await c.emit("history", {});
      g.ackOk("customer history {} → ok", h);
      const seqs: number[] = (h?.messages ?? []).map((x: Json) => x.seq);
      g.eq("history seqs are 1..lastSeq with no gaps or repeats", seqs, Array.from({ length: lastSeq }, (_, k) => k + 1));
      g.eq("conversation.lastSeq is the newest seq", h?.conversation?.lastSeq, lastSeq);
      g.eq("history keeps message bodies verbatim (HTML not altered)", h?.messages?.[1]?.body, sent[1]?.body);
    });

    /* ------------------------------------------------------------ typing */
    await group("typing", async (g) => {
      const c = need(cust, "customer socket");
      const w = need(winner, "assignee socket");
      let cm = c.mark();
      let wm = w.mark();
      const t1 = await c.emit("typing", { isTyping: true });
      g.ackOk("customer typing { isTyping: true } → ok", t1);
      const got = await w.wait("typing", (x) => x.isTyping === true && x.author?.role === "customer", wm).catch((e: Error) => e.message);
      g.check("assignee receives the customer's typing", typeof got === "object", got);
      g.eq("typing payload is { conversationId, author: { role, name }, isTyping }", [got?.conversationId, got?.author?.role, got?.author?.name, got?.isTyping], [conv.id, "customer", customerName, true]);
      await roundTrip(c, true);
      g.eq("the customer does not receive its own typing", c.since(cm, "typing"), []);

      cm = c.mark();
      wm = w.mark();
      const t2 = await w.emit("typing", { conversationId: conv.id, isTyping: true });
      g.ackOk("assignee typing { conversationId, isTyping: true } → ok", t2);
      const cgot = await c.wait("typing", (x) => x.author?.role === "agent", cm).catch((e: Error) => e.message);
      g.check("customer receives the agent's typing", typeof cgot === "object", cgot);
      g.eq("agent typing payload", [cgot?.conversationId, cgot?.author?.role, cgot?.author?.name, cgot?.isTyping], [conv.id, "agent", winnerAgent.name, true]);
      await roundTrip(w, false);
      g.eq("the agent does not receive its own typing", w.since(wm, "typing"), []);

      cm = c.mark();
      await c.emit("typing", { isTyping: false });
      const off = await w.wait("typing", (x) => x.isTyping === false, wm).catch((e: Error) => e.message);
      g.check("isTyping: false is relayed too", typeof off === "object", off);
      const h = await c.emit("history", { afterSeq: 0 });
      g.eq("typing is never stored as a message", h?.conversation?.lastSeq, lastSeq);
    });

    /* ------------------------------------------------------------ idempotency */
    await group("idempotency", async (g) => {
      const c = need(cust, "customer socket");
      const w = need(winner, "assignee socket");
      const clientId = `retry-${rnd()}`;
      const first = await c.emit("message:send", { clientId, body: "sent twice" });
      g.ackOk("first send → ok", first);
      lastSeq++;
      await w.wait("message:new", (x) => x.id === first?.message?.id).catch(() => null);
      const wm = w.mark();
      const cm = c.mark();
      const retry = await c.emit("message:send", { clientId, body: "sent twice" });
      g.ackOk("retry with the same clientId → ok", retry);
      g.eq("retry returns the same message (id, seq)", [retry?.message?.id, retry?.message?.seq], [first?.message?.id, first?.message?.seq]);
      const retry2 = await c.emit("message:send", { clientId, body: "different body, same clientId" });
      g.eq("a retry with another body still returns the stored message", [retry2?.message?.id, retry2?.message?.body], [first?.message?.id, "sent twice"]);
      await roundTrip(w, false);
      await roundTrip(c, true);
      g.eq("the retry broadcasts no message:new to the agent", w.since(wm, "message:new"), []);
      g.eq("the retry broadcasts no message:new to the customer", c.since(cm, "message:new"), []);
      const aId = `agent-retry-${rnd()}`;
      const a1 = await w.emit("message:send", { conversationId: conv.id, clientId: aId, body: "agent once" });
      lastSeq++;
      const a2 = await w.emit("message:send", { conversationId: conv.id, clientId: aId, body: "agent once" });
      g.eq("agent retry returns the same message", [a2?.ok, a2?.message?.id, a2?.message?.seq], [true, a1?.message?.id, a1?.message?.seq]);
      const h = await c.emit("history", { afterSeq: 0 });
      g.eq("retries did not add messages (lastSeq)", h?.conversation?.lastSeq, lastSeq);
      g.eq("each clientId is stored once", (h?.messages ?? []).filter((x: Json) => x.clientId === clientId || x.clientId === aId).length, 2);
      // Same clientId in another conversation is a different key.
      const other = await need(cust2, "customer2").emit("message:send", { clientId, body: "other conversation" });
      g.check("the same clientId in another conversation makes a new message", other?.ok === true && other?.message?.id !== first?.message?.id && other?.message?.conversationId === conv2?.id, other);
    });

    /* ------------------------------------------------------------ history after a gap */
    await group("history", async (g) => {
      const w = need(winner, "assignee socket");
      const held = lastSeq;
      need(cust, "customer socket").socket.close();
      const missed: Json[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await w.emit("message:send", { conversationId: conv.id, clientId: `gap-${i}-${rnd()}`, body: `while you were away ${i}` });
        g.ackOk(`agent message:send while the customer is away #${i}`, r);
        missed.push(r?.message);
      }
      lastSeq += 3;
      cust = await open({ customerToken }, "customer (reconnected)");
      const h = await cust.emit("history", { afterSeq: held });
      g.ackOk("customer history { afterSeq } → ok", h);
      g.eq("history returns exactly the missed messages, in order", (h?.messages ?? []).map((x: Json) => x.id), missed.map((x) => x?.id));
      g.eq("missed seqs follow the held one", (h?.messages ?? []).map((x: Json) => x.seq), [held + 1, held + 2, held + 3]);
      g.eq("history conversation.lastSeq", h?.conversation?.lastSeq, lastSeq);
      const none = await cust.emit("history", { afterSeq: lastSeq });
      g.eq("history afterSeq = lastSeq → no messages", none?.messages, []);
      const l = need(loser, "other agent");
      const ah = await l.emit("history", { conversationId: conv.id, afterSeq: held });
      g.eq("any agent (not the assignee) may read history", (ah?.messages ?? []).map((x: Json) => x.seq), [held + 1, held + 2, held + 3]);
      const hs = await http("GET", `/api/conversations/${encodeURIComponent(conv.id)}/messages?afterSeq=${held}`, { token: loserAgent.token });
      g.eq("GET /api/conversations/:id/messages?afterSeq=N (agent) → 200", hs.status, 200);
      g.eq("HTTP history returns the missed seqs", (hs.json?.messages ?? []).map((x: Json) => x.seq), [held + 1, held + 2, held + 3]);
      g.eq("HTTP history returns the conversation", hs.json?.conversation?.id, conv.id);
      const hc = await http("GET", `/api/conversations/${encodeURIComponent(conv.id)}/messages?afterSeq=${held}`, { token: customerToken });
      g.check("the conversation's customer reads its history over HTTP (Bearer customerToken)", hc.status === 200 && hc.json?.messages?.length === 3, describe(hc));
      const nf = await http("GET", `/api/conversations/nope-${rnd()}/messages`, { token: loserAgent.token });
      g.check("HTTP history of an unknown conversation → 404 JSON error", nf.status === 404 && isJsonError(nf), describe(nf));
      const bad = await http("GET", `/api/conversations/${encodeURIComponent(conv.id)}/messages?afterSeq=abc`, { token: loserAgent.token });
      g.check("HTTP history with afterSeq=abc → 400/422 JSON error", [400, 422].includes(bad.status) && isJsonError(bad), describe(bad));
      g.ackErr("agent history of an unknown conversation → not_found", await w.emit("history", { conversationId: `nope-${rnd()}` }), "not_found");
    });

    /* ------------------------------------------------------------ customer binding */
    await group("customerBinding", async (g) => {
      const c2 = need(cust2, "customer2");
      const c = need(cust, "customer");
      const w = need(winner, "assignee");
      const cm = c.mark();
      const wm = w.mark();
      const r = await c2.emit("message:send", { conversationId: conv.id, clientId: `x-${rnd()}`, body: "trying to post elsewhere" });
      g.ackOk("customer message:send with a foreign conversationId → ok (field ignored)", r);
      g.eq("the message lands in the customer's own conversation", r?.message?.conversationId, conv2?.id);
      const h = await c2.emit("history", { conversationId: conv.id, afterSeq: 0 });
      g.eq("customer history with a foreign conversationId returns its own conversation", h?.conversation?.id, conv2?.id);
      await c2.emit("typing", { conversationId: conv.id, isTyping: true });
      await roundTrip(c, true);
      await roundTrip(w, false);
      g.eq("nothing reached the other conversation's customer", [c.since(cm, "message:new"), c.since(cm, "typing")], [[], []]);
      g.eq("nothing reached the other conversation's assignee", [w.since(wm, "message:new", (x) => x.conversationId === conv.id), w.since(wm, "typing", (x) => x.conversationId === conv.id)], [[], []]);
      const own = await c.emit("history", { afterSeq: 0 });
      g.eq("the other conversation is unchanged", own?.conversation?.lastSeq, lastSeq);
      const spoof = await c.emit("message:send", { clientId: `spoof-${rnd()}`, body: "spoofed", author: { role: "agent", id: winnerAgent.id, name: "Boss" }, seq: 999, id: "m-forged" });
      g.ackOk("customer message:send with extra author/seq/id fields → ok (fields ignored)", spoof);
      g.eq("spoofed author/seq/id are ignored", [spoof?.message?.author?.role, spoof?.message?.author?.name, spoof?.message?.seq, spoof?.message?.id === "m-forged"], ["customer", customerName, lastSeq + 1, false]);
      if (spoof?.ok) lastSeq++;
      const cross = await http("GET", `/api/conversations/${encodeURIComponent(conv.id)}/messages`, { token: customer2Token });
      g.check("another customer's token cannot read this conversation over HTTP (401/403 JSON)", [401, 403, 404].includes(cross.status) && isJsonError(cross), describe(cross));
    });

    /* ------------------------------------------------------------ release / claim rules */
    await group("releaseClaim", async (g) => {
      const w = need(winner, "assignee");
      const l = need(loser, "other agent");
      const c = need(cust, "customer");
      const adm = need(sadm, "admin socket");
      const id = conv.id;
      g.ackErr("non-assignee message:send → forbidden", await l.emit("message:send", { conversationId: id, clientId: `f-${rnd()}`, body: "not mine" }), "forbidden");
      g.ackErr("non-assignee conversation:release → forbidden", await l.emit("conversation:release", { conversationId: id }), "forbidden");
      g.ackErr("non-assignee conversation:close → forbidden", await l.emit("conversation:close", { conversationId: id }), "forbidden");
      g.ackErr("agent message:send to a queued conversation (not assignee) → forbidden", await l.emit("message:send", { conversationId: conv2?.id, clientId: `q-${rnd()}`, body: "unclaimed" }), "forbidden");
      const h = await c.emit("history", { afterSeq: 0 });
      g.eq("refused actions changed nothing", [h?.conversation?.status, h?.conversation?.assignee?.id, h?.conversation?.lastSeq], ["assigned", winnerAgent.id, lastSeq]);

      const admMsg = await adm.emit("message:send", { conversationId: id, clientId: `adm-${rnd()}`, body: "admin stepping in" });
      g.ackOk("an admin (not the assignee) may send agent messages", admMsg);
      if (admMsg?.ok) lastSeq++;

      const cm = c.mark();
      const lm = l.mark();
      const rel = await w.emit("conversation:release", { conversationId: id });
      g.ackOk("assignee conversation:release → ok", rel);
      g.eq("released conversation is queued with no assignee", [rel?.conversation?.status, rel?.conversation?.assignee], ["queued", null]);
      const upd = await c.wait("conversation:updated", (x) => x.id === id && x.status === "queued", cm).catch((e: Error) => e.message);
      g.check("customer receives conversation:updated (queued)", typeof upd === "object", upd);
      const updA = await l.wait("conversation:updated", (x) => x.id === id && x.status === "queued", lm).catch((e: Error) => e.message);
      g.check("other agents receive conversation:updated (queued)", typeof updA === "object", updA);
      const q = await l.emit("queue:list", {});
      g.check("released conversation is back in queue:list", Array.isArray(q?.conversations) && q.conversations.some((x: Json) => x.id === id), q);
      g.ackErr("former assignee message:send after release → forbidden", await w.emit("message:send", { conversationId: id, clientId: `r-${rnd()}`, body: "gone" }), "forbidden");
      g.ackErr("former assignee release again → forbidden", await w.emit("conversation:release", { conversationId: id }), "forbidden");
      const qMsg = await c.emit("message:send", { clientId: `queued-${rnd()}`, body: "anyone there?" });
      g.ackOk("customer may keep writing while queued", qMsg);
      g.eq("customer message while queued continues the seq", qMsg?.message?.seq, lastSeq + 1);
      if (qMsg?.ok) lastSeq++;

      const claim = await l.emit("conversation:claim", { conversationId: id });
      g.ackOk("another agent claims the released conversation", claim);
      g.eq("new assignee recorded", claim?.conversation?.assignee?.id, loserAgent.id);
      g.ackErr("former assignee close after the reclaim → forbidden", await w.emit("conversation:close", { conversationId: id }), "forbidden");
      const lm2 = l.mark();
      const after = await c.emit("message:send", { clientId: `to-new-${rnd()}`, body: "hello new agent" });
      if (after?.ok) lastSeq++;
      const got = await l.wait("message:new", (x) => x.id === after?.message?.id, lm2).catch((e: Error) => e.message);
      g.check("the new assignee receives the customer's messages", typeof got === "object", got);
      const reply = await l.emit("message:send", { conversationId: id, clientId: `new-${rnd()}`, body: "I can help" });
      g.ackOk("the new assignee may send", reply);
      g.eq("seq still contiguous across release/claim", reply?.message?.seq, lastSeq + 1);
      if (reply?.ok) lastSeq++;
    });

    /* ------------------------------------------------------------ presence */
    await group("presence", async (g) => {
      // The assignee now is `loser` (it claimed after the release).
      const assignee = need(loser, "assignee");
      const other = need(winner, "other agent");
      const c = need(cust, "customer");
      const om = other.mark();
      const cm = c.mark();
      const r = await assignee.emit("presence:set", { status: "away" });
      g.ackOk("presence:set { status: away } → ok", r);
      const isAway = (x: Json) => x.id === loserAgent.id && x.status === "away" && x.role === "agent";
      const po = await other.wait("presence", isAway, om).catch((e: Error) => e.message);
      g.check("agents receive presence { role: agent, id, status: away }", typeof po === "object", po);
      const pc = await c.wait("presence", isAway, cm).catch((e: Error) => e.message);
      g.check("the customer of the agent's conversation receives presence away", typeof pc === "object", pc);
      g.check("presence payload carries the agent's name", po?.name === loserAgent.name, po);
      const list = await http("GET", "/api/agents", { token: adminToken });
      const me: Json = (list.json?.agents ?? []).find((x: Json) => x.id === loserAgent.id);
      g.check("GET /api/agents shows the agent as away", JSON.stringify(me ?? {}).includes("away"), me);
      const c2 = need(cust2, "customer2");
      await roundTrip(c2, true);
      g.eq("a customer whose conversation the agent does not hold gets no presence of that agent", c2.since(0, "presence", (x) => x.id === loserAgent.id), []);
      const back = await assignee.emit("presence:set", { status: "online" });
      g.ackOk("presence:set { status: online } → ok", back);
      const pb = await other.wait("presence", (x) => x.id === loserAgent.id && x.status === "online", om).catch((e: Error) => e.message);
      g.check("agents see the agent online again", typeof pb === "object", pb);
    });

    /* ------------------------------------------------------------ close */
    await group("close", async (g) => {
      const assignee = need(loser, "assignee");
      const c = need(cust, "customer");
      const other = need(winner, "other agent");
      const cm = c.mark();
      const om = other.mark();
      const cl = await assignee.emit("conversation:close", { conversationId: conv.id });
      g.ackOk("assignee conversation:close → ok", cl);
      g.eq("closed conversation has status closed", cl?.conversation?.status, "closed");
      const u = await c.wait("conversation:updated", (x) => x.id === conv.id && x.status === "closed", cm).catch((e: Error) => e.message);
      g.check("customer receives conversation:updated (closed)", typeof u === "object", u);
      const u2 = await other.wait("conversation:updated", (x) => x.id === conv.id && x.status === "closed", om).catch((e: Error) => e.message);
      g.check("agents receive conversation:updated (closed)", typeof u2 === "object", u2);
      g.ackErr("customer message:send after close → conversation_closed", await c.emit("message:send", { clientId: `late-${rnd()}`, body: "one more thing" }), "conversation_closed");
      g.ackErr("assignee message:send after close → conversation_closed", await assignee.emit("message:send", { conversationId: conv.id, clientId: `late-a-${rnd()}`, body: "bye" }), "conversation_closed");
      const claim = await other.emit("conversation:claim", { conversationId: conv.id });
      g.check("claiming a closed conversation is refused", claim?.ok === false && typeof claim?.error?.code === "string", claim);
      const h = await c.emit("history", { afterSeq: 0 });
      g.eq("a closed conversation is still readable and nothing was added", [h?.ok, h?.conversation?.status, h?.conversation?.lastSeq], [true, "closed", lastSeq]);
      const q = await other.emit("queue:list", {});
      g.check("closed conversation is not in the queue", Array.isArray(q?.conversations) && !q.conversations.some((x: Json) => x.id === conv.id), q);

      // The customer can close its own conversation (a queued one here) with {}.
      const c2 = need(cust2, "customer2");
      await roundTrip(c2, true);
      g.eq("over the whole flow, another customer never received an event of this conversation",
        c2.events.filter((e) => e.data?.conversationId === conv.id || (e.ev === "conversation:updated" && e.data?.id === conv.id)).map((e) => e.ev), []);
      const cc = await c2.emit("conversation:close", {});
      g.ackOk("customer conversation:close {} → ok", cc);
      g.eq("customer close closes its own conversation", [cc?.conversation?.id, cc?.conversation?.status], [conv2?.id, "closed"]);
      g.ackErr("customer message:send after its own close → conversation_closed", await c2.emit("message:send", { clientId: `late2-${rnd()}`, body: "hello?" }), "conversation_closed");
    });

    /* ------------------------------------------------------------ frame limit */
    await group("frameLimit", async (g) => {
      const r = await http("POST", "/api/conversations", { body: { name: "Big Frame", message: "hi" } });
      const tok = r.json?.customerToken;
      const p = await open({ customerToken: need(tok, "token for the frame test") }, "big-frame");
      const closed = new Promise<string>((resolve) => p.socket.once("disconnect", (reason: string) => resolve(reason)));
      const ack = await p.emit("message:send", { clientId: `big-${rnd()}`, body: "x".repeat(70 * 1024) }, 2000);
      g.check("a 70 KiB frame is not accepted as a message", ack?.ok !== true, ack);
      const reason = await Promise.race([closed, new Promise<string>((res) => setTimeout(() => res("(still connected)"), 2000))]);
      g.check("the oversized frame closes that connection (maxHttpBufferSize 64 KiB)", reason !== "(still connected)", reason);
      const health = await http("GET", "/healthz");
      g.eq("server still healthy after the oversized frame", health.status, 200);
      const noAck = await open({ customerToken: tok }, "no-ack");
      noAck.socket.emit("message:send", { clientId: `noack-${rnd()}`, body: "no callback" });
      noAck.socket.emit("history", { afterSeq: 0 });
      noAck.socket.emit("typing", "garbage");
      const after = await noAck.emit("history", { afterSeq: 0 });
      g.ackOk("events sent without an ack callback do not break the socket", after);
      const again = await open({ customerToken: tok }, "big-frame-again");
      const h = await again.emit("history", { afterSeq: 0 });
      g.check("the oversized message was not stored", !(h?.messages ?? []).some((x: Json) => x.body.length > 4000), h?.conversation?.lastSeq);
    });

    /* ------------------------------------------------------------ logout */
    await group("logout", async (g) => {
      const l = await http("POST", "/api/auth/login", { body: { email: agentA.email, password: agentA.password } });
      const cookie = l.setCookie.find((c) => /httponly/i.test(c))?.split(";")[0];
      const out = await http("POST", "/api/auth/logout", { token: l.json?.token, cookie });
      g.eq("POST /api/auth/logout → 204", out.status, 204);
      g.eq("logout has no body", out.text, "");
    });
  } finally {
    for (const p of sockets) p.socket.close();
  }

  return { baseUrl, groups, ms: Date.now() - started };
}
