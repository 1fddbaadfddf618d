/**
 * Load generator for claim contention: agents spread over both instances fire their
 * claims all at once; each conversation is contested by several agents and must end
 * with exactly one winner.
 */
import { performance } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { closeAll, connect, pool, request, type Auth } from "./lib/client.js";
import { serve } from "./lib/rpc.js";

export interface ClaimArgs {
  urls: string[];
  agents: Auth[];
  conversationIds: string[];
  /** How many distinct agents claim each conversation. */
  contenders: number;
  timeoutMs: number;
}
export interface ClaimResult {
  attempts: number;
  answered: number;
  durationMs: number;
  exactlyOne: number;
  noWinner: number;
  severalWinners: number;
  unexpectedErrors: number;
  firstError: string;
  latencies: Float64Array;
}

let sockets: Socket[] = [];

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

serve({
  async run(args: ClaimArgs): Promise<ClaimResult> {
    sockets = await pool(args.agents, 25, (auth, i) => connect(args.urls[i % args.urls.length]!, auth));
    const k = Math.min(args.contenders, sockets.length);
    const plan: string[][] = sockets.map(() => []);
    for (const id of args.conversationIds) {
      for (const a of shuffle([...plan.keys()]).slice(0, k)) plan[a]!.push(id);
    }
    for (const list of plan) shuffle(list);

    const wins = new Map<string, number>(args.conversationIds.map((id) => [id, 0]));
    const latencies: number[] = [];
    let answered = 0;
    let unexpectedErrors = 0;
    let firstError = "";
    const start = performance.now();
    await Promise.all(
      plan.flatMap((ids, a) =>
        ids.map(async (conversationId) => {
          const t0 = performance.now();
          try {
            const res = await request(sockets[a]!, "conversation:claim", { conversationId }, args.timeoutMs);
            answered++;
            latencies.push(performance.now() - t0);
            if (res.ok) wins.set(conversationId, wins.get(conversationId)! + 1);
            else if (res.error.code !== "already_claimed") {
              unexpectedErrors++;
              firstError ||= JSON.stringify(res.error);
            }
          } catch (err) {
            unexpectedErrors++;
            firstError ||= (err as Error).message;
          }
        }),
      ),
    );
    const durationMs = performance.now() - start;
    const counts = [...wins.values()];
    return {
      attempts: plan.reduce((n, l) => n + l.length, 0),
      answered,
      durationMs,
      exactlyOne: counts.filter((c) => c === 1).length,
      noWinner: counts.filter((c) => c === 0).length,
      severalWinners: counts.filter((c) => c > 1).length,
      unexpectedErrors,
      firstError,
      latencies: Float64Array.from(latencies),
    };
  },
  close() {
    closeAll(sockets);
    sockets = [];
    return {};
  },
});
