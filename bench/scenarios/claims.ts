/** Claim contention: queued conversations claimed by many agents at once, over both instances. */
import type { ClaimResult } from "../load-claim.js";
import type { BenchOptions } from "../lib/options.js";
import { Generator } from "../lib/procs.js";
import { percentiles } from "../lib/stats.js";
import type { System } from "../lib/systems.js";
import type { Values } from "./types.js";

export async function claims(system: System, opts: BenchOptions, log: (s: string) => void): Promise<Values> {
  const [agents, convs] = [await system.agents(opts.claimAgents), await system.newConversations(opts.claimConversations)];
  const gen = new Generator(`load-claim-${system.kind}`, "load-claim.ts");
  try {
    log(`${system.kind}: ${agents.length} agents claim ${convs.length} conversations, ${opts.claimContenders} contenders each`);
    const r = await gen.call<ClaimResult>("run", {
      urls: [system.a.url, (system.b ?? system.a).url],
      agents,
      conversationIds: convs.map((c) => c.id),
      contenders: opts.claimContenders,
      timeoutMs: 60_000,
    });
    if (r.unexpectedErrors) log(`${system.kind}: ${r.unexpectedErrors} unexpected claim errors (${r.firstError})`);
    const [p50, p99] = percentiles(r.latencies, [50, 99]);
    return {
      attempts: r.attempts,
      claimsPerSecond: convs.length / (r.durationMs / 1000),
      attemptsPerSecond: r.answered / (r.durationMs / 1000),
      p50: p50!,
      p99: p99!,
      exactlyOne: r.exactlyOne,
      wrong: r.noWinner + r.severalWinners,
      errors: r.unexpectedErrors,
    };
  } finally {
    await gen.close();
  }
}
