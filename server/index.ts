/** Boot: config → store → app → listen; graceful shutdown on SIGTERM. */
import { createApp, type AppOptions, type DeskApp } from "./app.js";
import { loadConfig } from "./config.js";
import { ensureAdmin } from "./desk/agents.js";
import { createLimiter } from "./limits.js";
import { createLogger } from "./log.js";
import { MemoryStore } from "./store/memory.js";
import type { Store } from "./store/store.js";

const config = loadConfig();
const log = createLogger(config.logLevel);
if (config.secretGenerated) log.warn("DESK_SECRET is not set: a random one was generated, so agent tokens die with this process");

const closers: (() => Promise<void>)[] = [];
let store: Store = new MemoryStore();
const options: Partial<AppOptions> = {};

if (config.redisUrl) {
  const { createRedisStore } = await import("./store/redis.js");
  const { createRedisAdapter } = await import("./realtime/adapter.js");
  const redisStore = await createRedisStore({ url: config.redisUrl, prefix: config.redisPrefix, log });
  store = redisStore;
  const adapter = await createRedisAdapter(config.redisUrl, log, config.redisAdapter);
  options.adapter = adapter.adapter;
  options.limiter = createLimiter(config.rateLimits, redisStore.client, config.redisPrefix);
  closers.push(adapter.close, () => redisStore.disconnect());
}

if (config.adminEmail && config.adminPassword) {
  const deps = { store, config, now: () => new Date() };
  const admin = await ensureAdmin(deps, config.adminEmail, config.adminPassword, config.adminName);
  log.info({ email: admin.email }, "admin agent ready");
}

const desk = createApp({ ...options, config, store, log });
desk.server.once("error", (err: NodeJS.ErrnoException) => {
  const reason = err.code === "EADDRINUSE" ? `port ${config.port} is already in use: set PORT to a free one` : err.message;
  log.fatal({ err: err.message, port: config.port }, `cannot listen: ${reason}`);
  process.exit(1);
});
desk.server.listen(config.port, config.host, () => {
  const address = desk.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  log.info({ port, store: store.kind, url: `http://localhost:${port}/`, agents: `http://localhost:${port}/agent` }, "livedesk listening");
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  const deadline = setTimeout(() => {
    log.error("shutdown took too long; exiting");
    process.exit(1);
  }, config.shutdownTimeoutMs);
  deadline.unref();
  desk.stop();
  desk.server.close();
  // Let in-flight handlers store what they were given, then drop the transports so
  // clients reconnect (to another instance); a retried send is deduped by clientId.
  await desk.drain();
  await closeTransports(desk, 2_000);
  desk.io.close();
  // what the disconnects set off (presence grace, co-browse end) finishes before the store closes
  await desk.drain();
  await Promise.allSettled(closers.map((c) => c()));
  log.info("bye");
  process.exit(0);
}

/**
 * Closes every client connection once its pending packets (the last acks) are written.
 * `io.close()` alone would discard them: a message stored but never acknowledged.
 */
function closeTransports(app: DeskApp, waitMs: number): Promise<void> {
  const conns = new Set([...app.io.of("/").sockets.values()].map((s) => s.conn));
  const closed = [...conns].map(
    (conn) =>
      new Promise<void>((resolve) => {
        if (conn.readyState === "closed") return resolve();
        conn.once("close", () => resolve());
        conn.close();
      }),
  );
  return new Promise<void>((resolve) => {
    setTimeout(resolve, waitMs).unref();
    void Promise.all(closed).then(() => resolve());
  });
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
