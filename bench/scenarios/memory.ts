/**
 * Idle memory: one instance without Redis (desk: in-process store), M customer sockets that
 * say nothing. Heap after a forced full GC (through the inspector) and RSS from /proc,
 * both before the sockets (conversations already made) and after; per socket = Δ / M.
 */
import type { BenchOptions } from "../lib/options.js";
import { inspectorUrl, memoryAfterGc } from "../lib/inspector.js";
import { Generator } from "../lib/procs.js";
import { sleep } from "../lib/client.js";
import { startSystem, type Kind } from "../lib/systems.js";
import type { Values } from "./types.js";

export async function memory(kind: Kind, opts: BenchOptions, log: (s: string) => void): Promise<Values> {
  const system = await startSystem(kind, { single: true, nodeArgs: () => ["--inspect=127.0.0.1:0"] });
  const gen = new Generator(`load-idle-${kind}`, "load-idle.ts");
  try {
    const ws = inspectorUrl(system.a.tail());
    // customers waiting on an assignee (the steady state); up to 500 conversations per agent
    const agents = await system.agents(Math.ceil(opts.idleSockets / 500));
    log(`${kind}: creating ${opts.idleSockets} conversations, assigned to ${agents.length} agents`);
    const convs = await system.newConversations(opts.idleSockets, agents);
    await sleep(opts.settleMs / 3);
    const before = await memoryAfterGc(ws);
    const rssBefore = system.a.rss();
    log(`${kind}: connecting ${opts.idleSockets} idle customer sockets`);
    const res = await gen.call<{ connected: number; failed: number; firstError: string; connectMs: number }>("connect", {
      url: system.a.url,
      auths: convs.map((c) => c.auth),
      concurrency: 50,
    });
    if (res.failed > 0) log(`${kind}: ${res.failed} sockets failed to connect (${res.firstError})`);
    await sleep(opts.settleMs); // let per-connection work (presence, queue positions) finish
    const after = await memoryAfterGc(ws);
    const rssAfter = system.a.rss();
    const n = Math.max(1, res.connected);
    return {
      sockets: res.connected,
      connectRate: res.connected / (res.connectMs / 1000),
      heapPerSocket: (after.heapUsed - before.heapUsed) / n / 1024,
      rssPerSocket: (rssAfter - rssBefore) / n / 1024,
      heapBefore: before.heapUsed / 2 ** 20,
      rssAfter: rssAfter / 2 ** 20,
    };
  } finally {
    await gen.close();
    await system.stop();
  }
}
