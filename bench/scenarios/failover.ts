/**
 * Failover: customer sockets on instance A, which is SIGKILLed mid-conversation; they
 * reconnect through B. Time from the kill until 99 % (and all) are back, and messages lost.
 */
import { RECONNECT } from "../../client/src/socket.js";
import type { FailoverResult } from "../load-failover.js";
import type { BenchOptions } from "../lib/options.js";
import { Generator } from "../lib/procs.js";
import { percentiles } from "../lib/stats.js";
import type { System } from "../lib/systems.js";
import type { Values } from "./types.js";

export async function failover(system: System, opts: BenchOptions, log: (s: string) => void): Promise<Values> {
  if (!system.b) throw new Error("failover needs two instances");
  // assigned conversations, 10 per agent (agents are not connected during the failover)
  const agents = await system.agents(Math.max(1, Math.min(200, Math.ceil(opts.failoverSockets / 10))));
  const convs = await system.newConversations(opts.failoverSockets, agents);
  const gen = new Generator(`load-failover-${system.kind}`, "load-failover.ts");
  try {
    log(`${system.kind}: ${convs.length} customers on A, SIGKILL of A after ${opts.failoverKillAfterMs} ms`);
    const r = await gen.call<FailoverResult>("run", {
      name: `${system.kind}-${Date.now().toString(36)}`,
      urls: [system.a.url, system.b.url],
      killPid: system.a.pid,
      customers: convs.map((c) => c.auth),
      messages: opts.failoverMessages,
      intervalMs: opts.failoverIntervalMs,
      killAfterMs: opts.failoverKillAfterMs,
      ackTimeoutMs: 2000,
      // the desk's own client schedule (client/src/socket.ts), for the desk and the baseline alike
      reconnectDelayMs: RECONNECT.reconnectionDelay,
      reconnectDelayMaxMs: RECONNECT.reconnectionDelayMax,
      verify: system.kind === "desk" ? "history" : "echo",
      deadlineMs: 60_000,
      bodyBytes: opts.bodyBytes,
      concurrency: 50,
    });
    if (r.firstError) log(`${system.kind}: ${r.firstError}`);
    if (system.a.running) throw new Error("instance A survived its SIGKILL");
    const [p50, p99, max] = percentiles(r.reconnectMs, [50, 99, 100]);
    return {
      sockets: r.sockets,
      reconnectP50: p50!,
      reconnect99: p99!,
      reconnectAll: max!,
      intended: r.intended,
      lost: r.lost,
      duplicates: r.duplicates,
      unacked: r.unacked,
      retries: r.retries,
    };
  } finally {
    await gen.close();
  }
}
