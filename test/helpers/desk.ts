/**
 * Test harness: a real desk on port 0 (in-process, memory store unless given another),
 * typed socket.io-client sockets, and helpers that await events instead of sleeping.
 */
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { createApp, type AppOptions, type DeskApp } from "../../server/app.js";
import { loadConfig, type Config } from "../../server/config.js";
import { ensureAdmin } from "../../server/desk/agents.js";
import { silentLogger } from "../../server/log.js";
import { MemoryStore } from "../../server/store/memory.js";
import type { Store } from "../../server/store/store.js";
import type { Ack, Agent, ClientToServerEvents, Conversation, ServerToClientEvents } from "../../shared/protocol.js";

export type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

export interface TestDesk {
  url: string;
  desk: DeskApp;
  store: Store;
  config: Config;
  sockets: Client[];
  close(): Promise<void>;
}

/** Fast timers for tests; defaults stay as SPEC says. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    DESK_SECRET: "test-secret-test-secret-test-secret",
    DESK_PRESENCE_GRACE_MS: "300",
    DESK_PRESENCE_TTL_MS: "2000",
    DESK_PRESENCE_HEARTBEAT_MS: "100",
    DESK_CLIENT_DIR: "/nonexistent",
    DESK_RATE_LIMITS: "off",
    ...env,
  });
}

export async function startDesk(opts: { env?: Record<string, string>; store?: Store } & Partial<AppOptions> = {}): Promise<TestDesk> {
  const config = opts.config ?? testConfig(opts.env);
  const store = opts.store ?? new MemoryStore();
  const log = opts.log ?? silentLogger();
  await ensureAdmin({ store, config, now: () => new Date() }, ADMIN.email, ADMIN.password);
  const desk = createApp({ ...opts, config, store, log });
  await new Promise<void>((resolve) => desk.server.listen(0, "127.0.0.1", resolve));
  const { port } = desk.server.address() as AddressInfo;
  const sockets: Client[] = [];
  return {
    url: `http://127.0.0.1:${port}`,
    desk,
    store,
    config,
    sockets,
    async close() {
      for (const s of sockets) s.disconnect();
      desk.stop();
      desk.io.close();
      await new Promise<void>((resolve) => desk.server.close(() => resolve()));
    },
  };
}

export async function api<T = any>(
  base: string,
  path: string,
  init: { method?: string; body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(base + path, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: {
      ...(init.body !== undefined && { "content-type": "application/json" }),
      ...(init.token && { authorization: `Bearer ${init.token}` }),
      ...init.headers,
    },
    body: init.body === undefined ? undefined : typeof init.body === "string" ? init.body : JSON.stringify(init.body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
}

let counter = 0;

export async function startConversation(
  t: TestDesk,
  input: Partial<{ name: string; email: string; topic: string; message: string }> = {},
): Promise<{ conversation: Conversation; customerToken: string }> {
  const res = await api(t.url, "/api/conversations", { body: { name: `Customer ${++counter}`, message: "Hello, I need help", ...input } });
  if (res.status !== 201) throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function login(t: TestDesk, creds = ADMIN): Promise<{ agent: Agent; token: string }> {
  const res = await api(t.url, "/api/auth/login", { body: creds });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Creates an agent (as admin) and logs it in. */
export async function newAgent(t: TestDesk, name = `Agent ${++counter}`, role: "agent" | "admin" = "agent") {
  const admin = await login(t);
  const email = `agent${++counter}-${Date.now()}@example.com`;
  const password = "agent-password-1";
  const res = await api(t.url, "/api/agents", { body: { email, name, password, role }, token: admin.token });
  if (res.status !== 201) throw new Error(`create agent failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...(await login(t, { email, password })), email, password };
}

/** Connects a socket and waits for `connect` (rejects on `connect_error`). */
export function connectSocket(
  t: TestDesk | string,
  auth: Record<string, unknown>,
  opts: Record<string, unknown> = {},
  before?: (socket: Client) => void,
): Promise<Client> {
  const url = typeof t === "string" ? t : t.url;
  const socket: Client = connect(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true, autoConnect: false, ...opts });
  if (typeof t !== "string") t.sockets.push(socket);
  before?.(socket);
  socket.connect();
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => reject(err));
  });
}

export const customerSocket = (t: TestDesk, token: string) => connectSocket(t, { customerToken: token });
export const agentSocket = (t: TestDesk, token: string) => connectSocket(t, { agentToken: token });

/** Emits with an ack and resolves with the ack's result. */
export function call<E extends keyof ClientToServerEvents>(
  socket: Client,
  event: E,
  payload: Parameters<ClientToServerEvents[E]>[0],
): Promise<Ack<any>> {
  return (socket as any).timeout(5000).emitWithAck(event, payload);
}

/** Resolves with the next `event` matching `filter`. */
export function next<E extends keyof ServerToClientEvents>(
  socket: Client,
  event: E,
  filter: (payload: Parameters<ServerToClientEvents[E]>[0]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as any);
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, timeoutMs);
    const listener = (payload: any) => {
      if (!filter(payload)) return;
      clearTimeout(timer);
      socket.off(event, listener as any);
      resolve(payload);
    };
    socket.on(event, listener as any);
  });
}

/** Records every `event` a socket receives from now on. */
export function record<E extends keyof ServerToClientEvents>(socket: Client, event: E): Parameters<ServerToClientEvents[E]>[0][] {
  const seen: any[] = [];
  socket.on(event, ((p: any) => seen.push(p)) as any);
  return seen;
}

/**
 * A round trip through the server on `socket`: anything the server emitted to this
 * socket before has arrived once it resolves (one connection delivers in order).
 */
export async function settle(...sockets: Client[]): Promise<void> {
  await Promise.all(sockets.map((s) => call(s, "history" as any, { afterSeq: 1e9, conversationId: "x" } as any)));
}

export const clientId = () => `c-${Math.random().toString(36).slice(2)}-${++counter}`;
