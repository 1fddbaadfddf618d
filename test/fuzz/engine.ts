/**
 * A bounded fuzzer: for a given time it throws generated payloads at every client→server
 * socket event (as a customer, an agent and an admin), at every HTTP endpoint and, as raw
 * frames, at the Socket.IO parser, while checking that the desk stays healthy, answers
 * every ack in time and never says `internal` or 5xx. `npm run fuzz` runs it for a minute;
 * `test/fuzz.test.ts` for a few seconds.
 */
import { Writable } from "node:stream";
import { pino } from "pino";
import { io as connect } from "socket.io-client";
import { api, login, newAgent, startDesk, type Client, type TestDesk } from "../helpers/desk.js";
import { rawSocket, type RawSocket } from "../helpers/raw.js";
import { mutate, randomFrame, randomValue, rng, type Rng } from "./generate.js";
import { HTTP_TARGETS, PROTOCOL_EVENTS, pathParam, randomBody, randomQuery, validPayload, type Role } from "./targets.js";

export interface FuzzOptions {
  durationMs: number;
  seed?: number;
  /** Actions in flight at once. */
  concurrency?: number;
  ackTimeoutMs?: number;
  /** Extra desk environment (the fuzzer runs with rate limits off unless told otherwise). */
  env?: Record<string, string>;
}

export interface FuzzFailure {
  kind: string;
  target: string;
  detail: string;
  input?: string;
}

export interface FuzzReport {
  seed: number;
  durationMs: number;
  iterations: number;
  socketCalls: number;
  httpRequests: number;
  rawFrames: number;
  healthChecks: number;
  acks: Record<string, number>;
  statuses: Record<string, number>;
  events: { fuzzed: string[]; unregistered: string[] };
  failures: FuzzFailure[];
}

interface Actor {
  role: Role;
  token: string;
  socket: Client;
}

const excerpt = (v: unknown) => {
  try {
    return (JSON.stringify(v) ?? String(v)).slice(0, 300);
  } catch {
    return String(v).slice(0, 300);
  }
};
const bump = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const r = rng(seed);
  const ackTimeoutMs = options.ackTimeoutMs ?? 3000;
  const report: FuzzReport = {
    seed, durationMs: options.durationMs, iterations: 0, socketCalls: 0, httpRequests: 0, rawFrames: 0, healthChecks: 0,
    acks: {}, statuses: {}, events: { fuzzed: [], unregistered: [] }, failures: [],
  };
  const fail = (f: FuzzFailure) => {
    if (report.failures.length < 200) report.failures.push(f);
  };
  const onCrash = (err: unknown) => fail({ kind: "crash", target: "process", detail: String((err as Error)?.stack ?? err) });
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).join();

  // server errors (anything that became `internal`, or failed in the background) are findings
  const log = pino({ level: "error" }, new Writable({
    write(line, _enc, done) {
      fail({ kind: "server-error-log", target: "log", detail: line.toString().slice(0, 500) });
      done();
    },
  }));
  const t = await startDesk({ env: { DESK_RATE_LIMITS: "off", ...options.env }, log });

  try {
    const agent = await newAgent(t, "Fuzz Agent");
    const admin = await login(t);
    let conversation = await freshConversation(t);
    const other = await freshConversation(t);
    const actors: Record<Role, Actor> = {
      customer: { role: "customer", token: conversation.customerToken, socket: await open(t, { customerToken: conversation.customerToken }) },
      agent: { role: "agent", token: agent.token, socket: await open(t, { agentToken: agent.token }) },
      admin: { role: "admin", token: admin.token, socket: await open(t, { agentToken: admin.token }) },
    };
    const observer = await open(t, { customerToken: other.customerToken });
    await actors.agent.socket.timeout(ackTimeoutMs).emitWithAck("conversation:claim", { conversationId: conversation.id });

    // every event of the protocol, and names the desk does not know (each must be answered too)
    const events = [...PROTOCOL_EVENTS, "nope:unknown", "__proto__", "constructor", "toString"];
    report.events = { fuzzed: events, unregistered: [] };

    let raw: RawSocket | undefined;
    const deadline = Date.now() + options.durationMs;
    let rotating = false;

    const rotate = async () => {
      if (rotating) return;
      rotating = true;
      try {
        conversation = await freshConversation(t);
        const retired = actors.customer.socket;
        actors.customer = { role: "customer", token: conversation.customerToken, socket: await open(t, { customerToken: conversation.customerToken }) };
        await actors.agent.socket.timeout(ackTimeoutMs).emitWithAck("conversation:claim", { conversationId: conversation.id });
        setTimeout(() => retired.disconnect(), ackTimeoutMs + 500).unref();
      } finally {
        rotating = false;
      }
    };

    const socketAction = async () => {
      const actor = actors[r.pick(["customer", "agent", "admin"] as const)];
      const event = r.chance(0.03) ? `fz:${r.int(100)}` : r.pick(events);
      const valid = validPayload(event, actor.role, r.chance(0.8) ? conversation.id : other.id, r);
      const payload = r.chance(0.5) ? mutate(r, valid) : randomValue(r);
      if (excerpt(payload).length >= 300 && JSON.stringify(payload ?? null).length > 60 * 1024) return; // raw frames test the size limit
      report.socketCalls++;
      const socket = actor.socket;
      if (!events.includes(event)) {
        socket.emit(event as any, payload as any);
        return;
      }
      const shape = r.int(10);
      const emitter = socket.timeout(ackTimeoutMs) as any;
      try {
        const ack = await (shape === 0 ? emitter.emitWithAck(event) : shape === 1 ? emitter.emitWithAck(event, payload, randomValue(r)) : emitter.emitWithAck(event, payload));
        const ok = ack && typeof ack === "object" && typeof ack.ok === "boolean" && (ack.ok || (typeof ack.error?.code === "string" && typeof ack.error?.message === "string"));
        bump(report.acks, ok ? (ack.ok ? "ok" : ack.error.code) : "malformed");
        if (!ok) fail({ kind: "bad-ack", target: `${actor.role} ${event}`, detail: excerpt(ack), input: excerpt(payload) });
        else if (!ack.ok && ["internal", "unavailable"].includes(ack.error.code)) {
          fail({ kind: ack.error.code, target: `${actor.role} ${event}`, detail: ack.error.message, input: excerpt(payload) });
        }
      } catch {
        if (socket !== actor.socket && !socket.connected) return; // retired by a rotation
        bump(report.acks, "timeout");
        fail({ kind: "ack-timeout", target: `${actor.role} ${event}`, detail: `no ack within ${ackTimeoutMs} ms (connected: ${socket.connected})`, input: excerpt(payload) });
      }
    };

    const httpAction = async () => {
      const target = r.pick(HTTP_TARGETS);
      const method = r.chance(0.08) ? r.pick(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) : target.method;
      let path = target.path.replace(":conversation", pathParam(r, conversation.id, other.id)).replace(":random", pathParam(r, "nobody", "no-one"));
      if (r.chance(0.05)) path = `/api/${encodeURIComponent(r.pick(["", "..", "agents/..", "conversations/x/y/z"]))}${r.int(10)}`;
      path += randomQuery(r);
      const body = method === "GET" || method === "HEAD" ? { headers: {} } : randomBody(r, target);
      const headers: Record<string, string> = { ...body.headers, ...credentials(r, target.auth, actors, conversation.customerToken) };
      report.httpRequests++;
      let res: Response;
      try {
        res = await fetch(t.url + path, { method, headers, body: body.body as BodyInit | undefined, redirect: "manual", signal: AbortSignal.timeout(ackTimeoutMs) });
      } catch (err) {
        if ((err as Error).name === "TimeoutError") fail({ kind: "http-timeout", target: `${method} ${path.slice(0, 80)}`, detail: String(err) });
        return; // anything else was refused by fetch itself (an invalid header), not by the desk
      }
      const text = await res.text().catch(() => "");
      bump(report.statuses, String(res.status));
      const where = `${method} ${target.path}`;
      if (res.status >= 500) fail({ kind: "http-5xx", target: where, detail: `${res.status} ${text.slice(0, 200)}`, input: `${path.slice(0, 120)} ${excerpt(body.body?.toString())}` });
      else if (res.status >= 400 && method !== "HEAD" && !isErrorBody(text)) {
        fail({ kind: "http-shape", target: where, detail: `${res.status} ${res.headers.get("content-type")} ${text.slice(0, 200)}`, input: path.slice(0, 120) });
      }
    };

    // one raw connection at a time, replaced when the server closes it (as it should, on most bad frames)
    let connecting: Promise<RawSocket | undefined> | undefined;
    const rawAction = async () => {
      if (!raw?.isOpen) {
        connecting ??= rawSocket(t.url, { customerToken: other.customerToken })
          .catch((err: Error) => {
            // with limits on, the socket cap may still count a connection the server is closing
            if (err.message !== "rate_limited") fail({ kind: "raw-connect", target: "socket.io", detail: err.message });
            return undefined;
          })
          .finally(() => (connecting = undefined));
        const next = await connecting;
        if (next && next !== raw) {
          raw?.close();
          raw = next;
        }
      }
      if (!raw?.isOpen) return;
      raw.send(randomFrame(r));
      report.rawFrames++;
    };

    const healthLoop = async () => {
      while (Date.now() < deadline) {
        const health = await api(t.url, "/healthz").catch((err: Error) => ({ status: 0, body: err.message }));
        if (health.status !== 200) fail({ kind: "health", target: "/healthz", detail: `${health.status} ${excerpt(health.body)}` });
        const ack = await observer.timeout(ackTimeoutMs).emitWithAck("history", { afterSeq: 1e9 }).catch(() => null);
        if (!ack?.ok) fail({ kind: "health", target: "observer history", detail: excerpt(ack) });
        report.healthChecks++;
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (r.chance(0.5)) await rotate();
      }
    };

    const worker = async () => {
      while (Date.now() < deadline) {
        const roll = r.next();
        try {
          await (roll < 0.6 ? socketAction() : roll < 0.93 ? httpAction() : rawAction());
        } catch (err) {
          fail({ kind: "fuzzer", target: "fuzzer itself", detail: String((err as Error)?.stack ?? err).slice(0, 500) });
        }
        report.iterations++;
      }
    };
    await Promise.all([healthLoop(), ...Array.from({ length: options.concurrency ?? 8 }, worker)]);
    raw?.close();

    await finalCheck(t, agent.token, report, fail, ackTimeoutMs);
    for (const socket of [...Object.values(actors).map((a) => a.socket), observer]) {
      if (!socket.connected) fail({ kind: "disconnect", target: "client socket", detail: "a fuzzing socket was disconnected by the server" });
    }
  } finally {
    await t.close();
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
  if (Object.getOwnPropertyNames(Object.prototype).join() !== protoBefore || ({} as Record<string, unknown>).polluted !== undefined) {
    fail({ kind: "pollution", target: "Object.prototype", detail: Object.getOwnPropertyNames(Object.prototype).join() });
  }
  return report;
}

/** After the storm: a new customer and its assignee still exchange messages both ways. */
async function finalCheck(t: TestDesk, agentToken: string, report: FuzzReport, fail: (f: FuzzFailure) => void, timeoutMs: number) {
  try {
    const sa = await open(t, { agentToken });
    const { id, customerToken } = await freshConversation(t);
    const cust = await open(t, { customerToken });
    await sa.timeout(timeoutMs).emitWithAck("conversation:claim", { conversationId: id });
    const arrives = new Promise((resolve) => sa.on("message:new", (m) => m.body === "after the storm" && resolve(m)));
    const ack = await cust.timeout(timeoutMs).emitWithAck("message:send", { clientId: "final", body: "after the storm" });
    if (!ack.ok) throw new Error(`send refused: ${excerpt(ack)}`);
    await Promise.race([arrives, new Promise((_, reject) => setTimeout(() => reject(new Error("no broadcast")), timeoutMs))]);
    const reply = await sa.timeout(timeoutMs).emitWithAck("message:send", { conversationId: id, clientId: "final-2", body: "ok" });
    if (!reply.ok) throw new Error(`reply refused: ${excerpt(reply)}`);
    sa.disconnect();
    cust.disconnect();
  } catch (err) {
    fail({ kind: "final-check", target: "desk", detail: String(err) });
  }
  report.healthChecks++;
}

function credentials(r: Rng, auth: "any" | "garbage", actors: Record<Role, Actor>, customerToken: string): Record<string, string> {
  const garbage = () => r.pick(["Bearer ", "Bearer x", `Bearer ${"a.".repeat(600)}`, "Basic YTpi", "Bearer c.x.y", "bearer a.e30.e30", "Bearer \u00ff"]);
  switch (auth === "garbage" ? r.int(2) : r.int(7)) {
    case 0:
      return {};
    case 1:
      return r.chance(0.5) ? { authorization: garbage() } : { cookie: `desk_session=${r.pick(["%", "%E0%A4%A", "x", "a.e30.e30"])}; other=1` };
    case 2:
      return { authorization: `Bearer ${customerToken}` };
    case 3:
      return { authorization: `Bearer ${actors.agent.token}` };
    case 4:
      return { cookie: `desk_session=${encodeURIComponent(actors.admin.token)}` };
    default:
      return { authorization: `Bearer ${actors.admin.token}` };
  }
}

function isErrorBody(text: string): boolean {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return typeof body.error?.code === "string" && typeof body.error.message === "string";
  } catch {
    return false;
  }
}

let starts = 0;
async function freshConversation(t: TestDesk): Promise<{ id: string; customerToken: string }> {
  // each from its own address, so that with limits on the fuzzer's own set-up is not refused
  const address = `10.250.${Math.floor(++starts / 250) % 250}.${starts % 250}`;
  const res = await api(t.url, "/api/conversations", { body: { name: "Fuzz Customer", message: "fuzz" }, headers: { "x-forwarded-for": address } });
  if (res.status !== 201) throw new Error(`could not start a conversation: ${res.status}`);
  return { id: res.body.conversation.id, customerToken: res.body.customerToken };
}

function open(t: TestDesk, auth: Record<string, string>): Promise<Client> {
  const socket: Client = connect(t.url, { auth, transports: ["websocket"], reconnection: false, forceNew: true });
  t.sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

