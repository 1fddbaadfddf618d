/**
 * Bench sizes: defaults for a 2-core machine, `--smoke` for tiny ones, each overridable by
 * `--flag value` / `--flag=value` or the environment (`BENCH_FLAG_NAME`).
 */
export const SCENARIOS = ["latency", "throughput", "memory", "claims", "failover"] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  smoke: boolean;
  scenarios: Scenario[];
  /** Active conversations in the latency and throughput scenarios. */
  conversations: number;
  /** Conversations held by each agent. */
  perAgent: number;
  /** Load generator processes for latency and throughput. */
  generators: number;
  /** Messages per second per conversation in the latency scenario. */
  latencyRate: number;
  latencySeconds: number;
  /** The latency time is split into this many rounds, alternating desk and baseline. */
  latencyRounds: number;
  warmupSeconds: number;
  stepSeconds: number;
  maxSteps: number;
  stepFactor: number;
  /** Throughput: the p99 that ends the ramp, ms. */
  p99LimitMs: number;
  idleSockets: number;
  claimConversations: number;
  claimAgents: number;
  /** Distinct agents claiming each conversation. */
  claimContenders: number;
  failoverSockets: number;
  failoverMessages: number;
  failoverIntervalMs: number;
  failoverKillAfterMs: number;
  bodyBytes: number;
  /** Pause before a memory reading, ms (lets per-connection work finish). */
  settleMs: number;
  /** Record a CPU profile of desk instance A (written under bench/results/profiles). */
  cpuProf: boolean;
  out: string;
  /** Hard limit on the whole run, minutes. */
  maxMinutes: number;
}

const defaults: Omit<BenchOptions, "smoke" | "scenarios" | "out"> = {
  conversations: 1000,
  perAgent: 5,
  generators: 2,
  latencyRate: 1,
  latencySeconds: 20,
  latencyRounds: 2,
  warmupSeconds: 3,
  stepSeconds: 5,
  maxSteps: 8,
  stepFactor: 1.5,
  p99LimitMs: 100,
  idleSockets: 5_000,
  claimConversations: 500,
  claimAgents: 50,
  claimContenders: 10,
  failoverSockets: 2000,
  failoverMessages: 4,
  failoverIntervalMs: 2000,
  failoverKillAfterMs: 3000,
  bodyBytes: 100,
  settleMs: 3000,
  cpuProf: false,
  maxMinutes: 15,
};

const smoke: Partial<BenchOptions> = {
  conversations: 20,
  generators: 1,
  latencySeconds: 2,
  latencyRounds: 1,
  warmupSeconds: 0.5,
  stepSeconds: 1,
  maxSteps: 2,
  idleSockets: 50,
  claimConversations: 20,
  claimAgents: 5,
  claimContenders: 3,
  failoverSockets: 40,
  failoverMessages: 3,
  failoverIntervalMs: 500,
  failoverKillAfterMs: 600,
  settleMs: 300,
  maxMinutes: 3,
};

const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const envName = (k: string) => `BENCH_${kebab(k).replace(/-/g, "_").toUpperCase()}`;

export function usage(): string {
  const lines = Object.entries(defaults).map(([k, v]) => `  --${kebab(k)} <${typeof v}>  (default ${v}, env ${envName(k)})`);
  return [
    "usage: npm run bench -- [--smoke] [--scenarios latency,throughput,memory,claims,failover] [--out file] [options]",
    ...lines,
  ].join("\n");
}

export function parseOptions(argv: string[], env: Record<string, string | undefined> = process.env): BenchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("--")) throw new Error(`unexpected argument "${arg}"\n${usage()}`);
    const eq = arg.indexOf("=");
    if (eq > 0) flags.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--")) flags.set(arg.slice(2), argv[++i]!);
    else flags.set(arg.slice(2), "true");
  }
  const isSmoke = flags.get("smoke") === "true" || env.BENCH_SMOKE === "1";
  flags.delete("smoke");
  const base = { ...defaults, ...(isSmoke ? smoke : {}) } as Record<string, unknown>;
  for (const [k, fallback] of Object.entries(base)) {
    const raw = flags.get(kebab(k)) ?? env[envName(k)];
    flags.delete(kebab(k));
    if (raw === undefined) continue;
    if (typeof fallback === "boolean") base[k] = raw === "true" || raw === "1";
    else {
      const n = Number(raw);
      if (!Number.isFinite(n) || n <= 0) throw new Error(`--${kebab(k)} must be a positive number, got "${raw}"`);
      base[k] = n;
    }
  }
  const scenarios = (flags.get("scenarios") ?? env.BENCH_SCENARIOS ?? SCENARIOS.join(",")).split(",").map((s) => s.trim());
  for (const s of scenarios) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario "${s}"`);
  const out = flags.get("out") ?? env.BENCH_OUT ?? (isSmoke ? "bench/results/smoke.json.tmp" : "bench/results/latest.json");
  flags.delete("scenarios");
  flags.delete("out");
  if (flags.has("help")) throw new Error(usage());
  if (flags.size > 0) throw new Error(`unknown option --${[...flags.keys()][0]}\n${usage()}`);
  return { ...(base as typeof defaults), smoke: isSmoke, scenarios: scenarios as Scenario[], out };
}
