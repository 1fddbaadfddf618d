/**
 * Latency and throughput: N conversations, customer sockets on instance A, their assignee's
 * socket on instance B (`perAgent` conversations per agent), so every message crosses
 * A → Redis → B. Both scenarios share one set of connected generators per system.
 */
import type { ChatAgent, ChatResult } from "../load-chat.js";
import type { BenchOptions } from "../lib/options.js";
import { Generator } from "../lib/procs.js";
import { concat, percentiles } from "../lib/stats.js";
import type { System } from "../lib/systems.js";
import type { Values } from "./types.js";

export interface Merged {
  sent: number;
  delivered: number;
  undelivered: number;
  ackErrors: number;
  latencies: Float64Array;
  /** p99 of the messages sent in each second of the run (spots periodic stalls). */
  p99BySecond: number[];
  ackLatencies: Float64Array;
  seconds: number;
  schedulerLagMs: number;
}

export class ChatLoad {
  private constructor(
    readonly system: System,
    private readonly generators: Generator[],
    readonly sockets: number,
  ) {}

  static async start(system: System, opts: BenchOptions, log: (s: string) => void): Promise<ChatLoad> {
    if (!system.b) throw new Error("the chat scenarios need two instances");
    const agentCount = Math.ceil(opts.conversations / opts.perAgent);
    log(`${system.kind}: provisioning ${opts.conversations} conversations and ${agentCount} agents`);
    const [agentAuths, convs] = [await system.agents(agentCount), await system.newConversations(opts.conversations)];
    const g = Math.max(1, Math.min(opts.generators, agentCount));
    const parts: ChatAgent[][] = Array.from({ length: g }, () => []);
    agentAuths.forEach((auth, i) => {
      const conversations = convs.slice(i * opts.perAgent, (i + 1) * opts.perAgent).map((c) => ({ id: c.id, customerAuth: c.auth }));
      parts[i % g]!.push({ auth, conversations });
    });
    const generators = parts.map((_, i) => new Generator(`load-chat-${system.kind}-${i}`, "load-chat.ts"));
    const load = new ChatLoad(system, generators, 0);
    try {
      log(`${system.kind}: connecting ${opts.conversations} customers (A) and ${agentCount} agents (B), claiming`);
      const ready = await Promise.all(
        generators.map((gen, i) =>
          gen.call<{ agents: number; customers: number }>("setup", {
            name: `${system.kind}${i}-${Date.now().toString(36)}`,
            customerUrl: system.a.url,
            agentUrl: system.b!.url,
            agents: parts[i],
            bodyBytes: opts.bodyBytes,
            concurrency: 25,
          }),
        ),
      );
      return new ChatLoad(system, generators, ready.reduce((n, r) => n + r.agents + r.customers, 0));
    } catch (err) {
      await load.close();
      throw err;
    }
  }

  /** Sends `rate` messages per second in total for `seconds`, spread over every conversation. */
  async run(rate: number, seconds: number): Promise<Merged> {
    const results = await Promise.all(
      this.generators.map((gen) => gen.call<ChatResult>("run", { rate: rate / this.generators.length, durationMs: seconds * 1000, drainMs: 3000 })),
    );
    return {
      sent: results.reduce((n, r) => n + r.sent, 0),
      delivered: results.reduce((n, r) => n + r.delivered, 0),
      undelivered: results.reduce((n, r) => n + r.undelivered, 0),
      ackErrors: results.reduce((n, r) => n + r.ackErrors, 0),
      latencies: concat(results.map((r) => r.latencies)),
      p99BySecond: bySecond(results, seconds),
      ackLatencies: concat(results.map((r) => r.ackLatencies)),
      seconds: Math.max(...results.map((r) => r.sendWindowMs)) / 1000,
      schedulerLagMs: Math.max(...results.map((r) => r.schedulerLagMs)),
    };
  }

  async close(): Promise<void> {
    await Promise.all(this.generators.map((g) => g.close()));
  }
}

function bySecond(results: ChatResult[], seconds: number): number[] {
  const buckets: number[][] = Array.from({ length: Math.ceil(seconds) }, () => []);
  for (const r of results) r.latencies.forEach((l, i) => buckets[Math.min(buckets.length - 1, Math.floor(r.sentAt[i]! / 1000))]?.push(l));
  return buckets.map((b) => Math.round(percentiles(b, [99])[0]! * 10) / 10);
}

/** p99 counting every undelivered message as infinitely late. */
export function strictP99(r: Merged): number {
  const all = concat([r.latencies, new Float64Array(r.undelivered).fill(Infinity)]);
  return percentiles(all, [99])[0]!;
}

/** One latency sample of `seconds` at the latency rate (after a discarded warm-up on the first). */
export async function latencyRound(load: ChatLoad, opts: BenchOptions, seconds: number, warmup: boolean): Promise<Merged> {
  const rate = opts.conversations * opts.latencyRate;
  if (warmup) await load.run(rate, opts.warmupSeconds); // JIT, connection pools, Redis scripts: not measured
  return load.run(rate, seconds);
}

export function latencyValues(load: ChatLoad, rounds: Merged[]): Values {
  const latencies = concat(rounds.map((r) => r.latencies));
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const [p50, p95, p99, max] = percentiles(latencies, [50, 95, 99, 100]);
  const [ack50] = percentiles(concat(rounds.map((r) => r.ackLatencies)), [50]);
  const sum = (k: "sent" | "delivered" | "undelivered" | "ackErrors") => rounds.reduce((n, r) => n + r[k], 0);
  return {
    sockets: load.sockets,
    offered: sum("sent") / seconds,
    delivered: sum("delivered") / seconds,
    p50: p50!,
    p95: p95!,
    p99: p99!,
    max: max!,
    ackP50: ack50!,
    undelivered: sum("undelivered"),
    ackErrors: sum("ackErrors"),
    lag: Math.max(...rounds.map((r) => r.schedulerLagMs)),
  };
}

/** Per-second p99 of each round, for the raw section of the report. */
export function latencyTimeline(rounds: Merged[]): number[][] {
  return rounds.map((r) => r.p99BySecond);
}

/**
 * Raises the total send rate geometrically until p99 (undelivered counted as late) passes
 * the limit, then bisects twice; the sustained rate is the best delivered msgs/s of a step
 * that stayed under the limit with every message delivered and acknowledged.
 */
export async function throughput(load: ChatLoad, opts: BenchOptions, log: (s: string) => void): Promise<Values> {
  let best: { rate: number; delivered: number; p99: number } | null = null;
  let failed = Number.POSITIVE_INFINITY;
  let rate = opts.conversations * opts.latencyRate;
  // A step over the limit is tried once more before it counts: on a shared machine one
  // stall of some other process must not end the ramp.
  const step = async (r: number) => {
    for (let attempt = 0; ; attempt++) {
      const res = await load.run(r, opts.stepSeconds);
      const p99 = strictP99(res);
      const delivered = res.delivered / res.seconds;
      const ok = p99 <= opts.p99LimitMs && res.ackErrors === 0 && res.undelivered === 0;
      const retry = !ok && attempt === 0 && !opts.smoke;
      log(`${load.system.kind}: ${Math.round(r)} msg/s offered → ${Math.round(delivered)} delivered/s, p99 ${p99.toFixed(1)} ms${ok ? "" : retry ? " ✗ (once more)" : " ✗"}`);
      await new Promise((res) => setTimeout(res, 500));
      if (ok && (!best || delivered > best.delivered)) best = { rate: r, delivered, p99 };
      if (ok) return true;
      if (!retry) {
        failed = Math.min(failed, r);
        return false;
      }
    }
  };
  let steps = 0;
  for (; steps < opts.maxSteps; steps++) {
    const ok = await step(rate);
    if (ok && !Number.isFinite(failed)) rate *= opts.stepFactor;
    else if (!ok && !best) rate /= opts.stepFactor;
    else break;
  }
  for (let i = 0; i < 2 && best && Number.isFinite(failed) && steps < opts.maxSteps + 2; i++, steps++) {
    await step(Math.sqrt((best as { rate: number }).rate * failed));
  }
  const b = best as { rate: number; delivered: number; p99: number } | null;
  return { sustained: b?.delivered ?? 0, p99AtSustained: b?.p99 ?? NaN, firstFailing: Number.isFinite(failed) ? failed : NaN };
}
