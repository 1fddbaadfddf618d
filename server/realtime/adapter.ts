/** The Redis adapter: broadcasts reach the sockets of every instance. */
import { createAdapter, createShardedAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import type { Logger } from "../log.js";

/**
 * `classic`: PUBLISH/SUBSCRIBE on one channel per namespace (every instance sees every
 * broadcast). `sharded`: Redis 7 SPUBLISH/SSUBSCRIBE with one channel per room, so only
 * instances holding a room's sockets receive its traffic; the way to Redis Cluster.
 */
export type AdapterKind = "classic" | "sharded";

export interface RedisAdapterHandle {
  adapter: ReturnType<typeof createAdapter> | ReturnType<typeof createShardedAdapter>;
  close(): Promise<void>;
}

/** Two dedicated connections (publish, subscribe) that reconnect and resubscribe by themselves. */
export async function createRedisAdapter(url: string, log: Logger, kind: AdapterKind = "classic"): Promise<RedisAdapterHandle> {
  const reconnectStrategy = (retries: number) => Math.min(50 * 2 ** retries, 1000);
  // no per-command timer: every broadcast is a PUBLISH on the hot path
  const pub = createClient({ url, socket: { reconnectStrategy }, commandOptions: { timeout: 0 } });
  const sub = pub.duplicate();
  for (const [name, client] of [["pub", pub], ["sub", sub]] as const) {
    client.on("error", (err: Error) => log.warn({ err: err.message, client: name }, "redis adapter connection error"));
  }
  await Promise.all([pub.connect(), sub.connect()]);
  return {
    adapter: kind === "sharded" ? createShardedAdapter(pub, sub, { subscriptionMode: "dynamic" }) : createAdapter(pub, sub),
    async close() {
      await Promise.allSettled([pub.quit(), sub.quit()]);
    },
  };
}
