/** Load generator for idle memory: connects many sockets, holds them, says nothing. */
import { performance } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { closeAll, connect, pool, type Auth } from "./lib/client.js";
import { serve } from "./lib/rpc.js";

const sockets: Socket[] = [];

serve({
  async connect(args: { url: string; auths: Auth[]; concurrency: number }) {
    const start = performance.now();
    let failed = 0;
    let firstError = "";
    await pool(args.auths, args.concurrency, async (auth) => {
      try {
        sockets.push(await connect(args.url, auth, 60_000));
      } catch (err) {
        failed++;
        firstError ||= (err as Error).message;
      }
    });
    return { connected: sockets.filter((s) => s.connected).length, failed, firstError, connectMs: performance.now() - start };
  },
  close() {
    closeAll(sockets);
    sockets.length = 0;
    return {};
  },
});
