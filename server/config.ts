/** The only reader of `process.env`. Every timeout is here so tests can shorten it. */
import { randomBytes } from "node:crypto";

export interface RateLimits {
  enabled: boolean;
  /** message:send per socket: sustained per second, and burst. */
  messagePerSecond: number;
  messageBurst: number;
  typingPerSecond: number;
  /** conversation starts per address per minute. */
  startsPerMinute: number;
  /** failed logins per address and per account per 15 minutes. */
  failedLogins: number;
  /** message:send per conversation and side (its customer's sockets, its agents'): per second, burst. */
  conversationMessagePerSecond: number;
  conversationMessageBurst: number;
  /** typing per conversation and side, per second. */
  conversationTypingPerSecond: number;
  /** Events of any kind per socket per second (bursts of twice that): history, lists … */
  eventsPerSecond: number;
  /** A socket refused `rate_limited` this many times in a row is disconnected. */
  disconnectAfter: number;
  /** Open sockets per customer (conversation) and per agent, per instance. */
  customerSockets: number;
  agentSockets: number;
  /** Queued or assigned conversations one address may have started (counted per instance). */
  openConversationsPerAddress: number;
}

export interface Config {
  port: number;
  host: string;
  redisUrl?: string;
  /** Socket.IO Redis adapter: `classic` pub/sub or Redis 7 `sharded` pub/sub. */
  redisAdapter: "classic" | "sharded";
  /** Prefix of every Redis key, so several desks can share one Redis. */
  redisPrefix: string;
  adminEmail?: string;
  adminPassword?: string;
  /** The admin's display name, shown to customers when the admin answers (default "Admin"). */
  adminName?: string;
  secret: string;
  secretGenerated: boolean;
  allowedOrigins: string[];
  rateLimits: RateLimits;
  logLevel: string;
  /** Lifetime of an agent token, ms. */
  agentTokenTtlMs: number;
  /** How long a closed socket keeps its person online (page reloads), ms. */
  presenceGraceMs: number;
  /** A socket's presence entry lives this long without a heartbeat (instance crash), ms. */
  presenceTtlMs: number;
  /** How often each instance refreshes its sockets and sweeps expired ones, ms. */
  presenceHeartbeatMs: number;
  /** SIGTERM: the process exits within this, ms. */
  shutdownTimeoutMs: number;
  /** Where the built client lives (served statically when present). */
  clientDir: string;
  /** Serve the demo host page for the widget (development and tests). */
  serveDemo: boolean;
  /** Express `trust proxy`: which hops may set X-Forwarded-For (client addresses for limits). */
  trustProxy: string | boolean | number;
}

type Env = Record<string, string | undefined>;

const num = (env: Env, key: string, fallback: number): number => {
  const raw = env[key];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number, got "${raw}"`);
  return n;
};

/**
 * `DESK_RATE_LIMITS`: `off`, or comma-separated overrides such as
 * `message=10/20,typing=5,starts=20,logins=10,conversationMessage=20/40,conversationTyping=10,
 * disconnectAfter=200,customerSockets=10,agentSockets=20,openConversations=5` (docs/security.md).
 */
export function parseRateLimits(raw: string | undefined): RateLimits {
  const limits: RateLimits = {
    enabled: true,
    messagePerSecond: 10,
    messageBurst: 20,
    typingPerSecond: 5,
    startsPerMinute: 20,
    failedLogins: 10,
    conversationMessagePerSecond: 20,
    conversationMessageBurst: 40,
    conversationTypingPerSecond: 10,
    eventsPerSecond: 50,
    disconnectAfter: 200,
    customerSockets: 10,
    agentSockets: 20,
    openConversationsPerAddress: 5,
  };
  if (!raw) return limits;
  if (raw.trim() === "off") return { ...limits, enabled: false };
  for (const part of raw.split(",")) {
    const [key, value = ""] = part.split("=").map((s) => s.trim());
    const [a, b] = value.split("/").map(Number);
    if (a === undefined || !Number.isFinite(a) || a <= 0) throw new Error(`DESK_RATE_LIMITS: bad value in "${part}"`);
    if (key === "message") {
      limits.messagePerSecond = a;
      limits.messageBurst = b && Number.isFinite(b) ? b : a * 2;
    } else if (key === "typing") limits.typingPerSecond = a;
    else if (key === "starts") limits.startsPerMinute = a;
    else if (key === "logins") limits.failedLogins = a;
    else if (key === "conversationMessage") {
      limits.conversationMessagePerSecond = a;
      limits.conversationMessageBurst = b && Number.isFinite(b) ? b : a * 2;
    } else if (key === "conversationTyping") limits.conversationTypingPerSecond = a;
    else if (key === "disconnectAfter") limits.disconnectAfter = a;
    else if (key === "events") limits.eventsPerSecond = a;
    else if (key === "customerSockets") limits.customerSockets = a;
    else if (key === "agentSockets") limits.agentSockets = a;
    else if (key === "openConversations") limits.openConversationsPerAddress = a;
    else throw new Error(`DESK_RATE_LIMITS: unknown limit "${key}"`);
  }
  return limits;
}

function parseAdapter(raw: string | undefined): "classic" | "sharded" {
  if (!raw || raw === "classic") return "classic";
  if (raw === "sharded") return "sharded";
  throw new Error(`DESK_REDIS_ADAPTER must be "classic" or "sharded", got "${raw}"`);
}

export function loadConfig(env: Env = process.env): Config {
  const secret = env.DESK_SECRET || randomBytes(32).toString("base64url");
  return {
    port: num(env, "PORT", 3000),
    host: env.HOST || "0.0.0.0",
    redisUrl: env.REDIS_URL || undefined,
    redisPrefix: env.DESK_REDIS_PREFIX || "desk:",
    redisAdapter: parseAdapter(env.DESK_REDIS_ADAPTER),
    adminEmail: env.DESK_ADMIN_EMAIL || undefined,
    adminPassword: env.DESK_ADMIN_PASSWORD || undefined,
    adminName: env.DESK_ADMIN_NAME || undefined,
    secret,
    secretGenerated: !env.DESK_SECRET,
    allowedOrigins: (env.DESK_ALLOWED_ORIGINS ?? "")
      .split(",")
      .map((s) => s.trim().replace(/\/$/, ""))
      .filter(Boolean),
    rateLimits: parseRateLimits(env.DESK_RATE_LIMITS),
    logLevel: env.LOG_LEVEL || "info",
    agentTokenTtlMs: num(env, "DESK_AGENT_TOKEN_TTL_MS", 12 * 60 * 60 * 1000),
    presenceGraceMs: num(env, "DESK_PRESENCE_GRACE_MS", 5_000),
    presenceTtlMs: num(env, "DESK_PRESENCE_TTL_MS", 20_000),
    presenceHeartbeatMs: num(env, "DESK_PRESENCE_HEARTBEAT_MS", 5_000),
    shutdownTimeoutMs: num(env, "DESK_SHUTDOWN_TIMEOUT_MS", 8_000),
    clientDir: env.DESK_CLIENT_DIR || "dist/client",
    serveDemo: env.DESK_SERVE_DEMO === "1" || env.NODE_ENV === "development",
    trustProxy: env.DESK_TRUST_PROXY ?? "loopback",
  };
}
