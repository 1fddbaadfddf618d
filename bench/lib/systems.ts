/**
 * The two systems under test, started the same way: the desk (`server/index.ts`) and the
 * bare baseline (`bench/baseline-server.ts`), each as a pair of instances on its own Redis,
 * or as one instance without Redis (memory). Provisioning differs (the desk needs
 * conversations and agents made through its API; the baseline only needs names); the load
 * that follows is the same.
 */
import { randomBytes } from "node:crypto";
import { freePort } from "../../test/helpers/redis.js";
import { closeAll, connect, pool, request, type Auth } from "./client.js";
import { startServer, type ServerProc } from "./procs.js";

export type Kind = "desk" | "baseline";
export interface Conv {
  id: string;
  auth: Auth;
}

export interface System {
  kind: Kind;
  a: ServerProc;
  /** Absent for a single instance. */
  b?: ServerProc;
  /**
   * Conversations ready for a customer socket: queued on the desk, or with `assignTo`
   * claimed right after creation by those agents in turn (the queue stays short: every
   * change of a long queue costs the desk O(queue), see bench/README.md).
   */
  newConversations(n: number, assignTo?: Auth[]): Promise<Conv[]>;
  /** Socket credentials of `n` distinct agents (the same ones on every call). */
  agents(n: number): Promise<Auth[]>;
  stop(): Promise<void>;
}

const ADMIN = { email: "bench-admin@bench.example.com", password: `bench-${randomBytes(6).toString("hex")}` };
const SECRET = randomBytes(32).toString("base64url");
const AGENT_PASSWORD = "bench-agent-password";

const common = { HOST: "127.0.0.1", NODE_ENV: "production", LOG_LEVEL: "warn" };

function deskEnv(redisUrl: string | undefined): Record<string, string> {
  return {
    ...common,
    REDIS_URL: redisUrl ?? "",
    DESK_ADMIN_EMAIL: ADMIN.email,
    DESK_ADMIN_PASSWORD: ADMIN.password,
    DESK_SECRET: SECRET,
    DESK_RATE_LIMITS: "off",
    DESK_CLIENT_DIR: "/nonexistent",
  };
}

async function api<T>(base: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(base + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

let seq = 0;
const runId = randomBytes(3).toString("hex");

export interface StartOptions {
  redisUrl?: string;
  /** Extra node flags for each instance, e.g. `--inspect=127.0.0.1:0`. */
  nodeArgs?: (instance: "a" | "b") => string[];
  /** One instance only. */
  single?: boolean;
}

export async function startDesk(opts: StartOptions): Promise<System> {
  const env = deskEnv(opts.redisUrl);
  // only A creates the admin agent (B shares it through Redis): no race between the two
  const { DESK_ADMIN_EMAIL: _e, DESK_ADMIN_PASSWORD: _p, ...envB } = env;
  const start = async (instance: "a" | "b") =>
    startServer({
      name: `desk-${instance}`,
      script: "server/index.ts",
      port: await freePort(),
      env: instance === "a" ? env : envB,
      nodeArgs: opts.nodeArgs?.(instance),
      readyPath: "/readyz",
    });
  const [a, b] = await Promise.all([start("a"), opts.single ? undefined : start("b")]);
  const urls = b ? [a.url, b.url] : [a.url];
  const agentTokens: string[] = [];
  let adminToken = "";

  return {
    kind: "desk",
    a,
    b,
    async newConversations(n, assignTo = []) {
      const claimers = await pool(assignTo, 8, (auth, i) => connect(urls[i % urls.length]!, auth));
      try {
        return await pool(Array.from({ length: n }), 16, async (_, i) => {
          const res = await api<{ conversation: { id: string }; customerToken: string }>(urls[i % urls.length]!, "/api/conversations", {
            name: `Customer ${++seq}`,
            email: `customer${seq}@bench.example.com`,
            message: "Hello, I have a question about my order.",
          });
          const id = res.conversation.id;
          if (claimers.length > 0) {
            const claimed = await request(claimers[i % claimers.length]!, "conversation:claim", { conversationId: id }, 30_000);
            if (!claimed.ok) throw new Error(`claim of ${id} failed: ${JSON.stringify(claimed)}`);
          }
          return { id, auth: { customerToken: res.customerToken } };
        });
      } finally {
        closeAll(claimers);
      }
    },
    async agents(n) {
      adminToken ||= (await api<{ token: string }>(a.url, "/api/auth/login", ADMIN)).token;
      const missing = Array.from({ length: Math.max(0, n - agentTokens.length) }, (_, i) => agentTokens.length + i);
      // scrypt on create and on login: a few at a time keeps the thread pool busy without queueing
      const created = await pool(missing, 4, async (i) => {
        const email = `agent-${runId}-${i}@bench.example.com`;
        await api(urls[i % urls.length]!, "/api/agents", { email, name: `Agent ${i}`, password: AGENT_PASSWORD }, adminToken);
        return (await api<{ token: string }>(urls[(i + 1) % urls.length]!, "/api/auth/login", { email, password: AGENT_PASSWORD })).token;
      });
      agentTokens.push(...created);
      return agentTokens.slice(0, n).map((agentToken) => ({ agentToken }));
    },
    async stop() {
      await Promise.all([a.stop(), b?.stop()]);
    },
  };
}

export async function startBaseline(opts: StartOptions): Promise<System> {
  const env = { ...common, REDIS_URL: opts.redisUrl ?? "" };
  const start = async (instance: "a" | "b") =>
    startServer({ name: `baseline-${instance}`, script: "bench/baseline-server.ts", port: await freePort(), env, nodeArgs: opts.nodeArgs?.(instance), readyPath: "/readyz" });
  const [a, b] = await Promise.all([start("a"), opts.single ? undefined : start("b")]);
  return {
    kind: "baseline",
    a,
    b,
    async newConversations(n) {
      return Array.from({ length: n }, () => {
        const id = `b${runId}${++seq}`;
        return { id, auth: { conversationId: id } };
      });
    },
    async agents(n) {
      return Array.from({ length: n }, (_, i) => ({ agentId: `agent-${i}` }));
    },
    async stop() {
      await Promise.all([a.stop(), b?.stop()]);
    },
  };
}

export const startSystem = (kind: Kind, opts: StartOptions) => (kind === "desk" ? startDesk(opts) : startBaseline(opts));
