/** The table: one row per metric, desk next to baseline and their ratio; plus the targets. */
import type { Scenario } from "./options.js";
import type { Metric, Values } from "../scenarios/types.js";

export const METRICS: Record<Scenario, Metric[]> = {
  latency: [
    { key: "sockets", label: "connected sockets", unit: "", better: "info" },
    { key: "delivered", label: "delivered msgs/s", unit: "msg/s", better: "info" },
    { key: "p50", label: "send→agent p50", unit: "ms", better: "lower" },
    { key: "p95", label: "send→agent p95", unit: "ms", better: "lower" },
    { key: "p99", label: "send→agent p99", unit: "ms", better: "lower" },
    { key: "ackP50", label: "send→ack p50", unit: "ms", better: "lower" },
    { key: "undelivered", label: "undelivered", unit: "msgs", better: "lower" },
  ],
  throughput: [
    { key: "sustained", label: "sustained delivered msgs/s (p99 ≤ limit)", unit: "msg/s", better: "higher" },
    { key: "p99AtSustained", label: "p99 at that rate", unit: "ms", better: "info" },
  ],
  memory: [
    { key: "sockets", label: "connected idle sockets", unit: "", better: "info" },
    { key: "heapPerSocket", label: "heap per idle socket (after GC)", unit: "KiB", better: "lower" },
    { key: "rssPerSocket", label: "RSS per idle socket", unit: "KiB", better: "lower" },
    { key: "connectRate", label: "connections accepted/s", unit: "conn/s", better: "higher" },
  ],
  claims: [
    { key: "attempts", label: "claim attempts", unit: "", better: "info" },
    { key: "claimsPerSecond", label: "conversations claimed/s", unit: "claim/s", better: "higher" },
    { key: "attemptsPerSecond", label: "claim attempts answered/s", unit: "req/s", better: "higher" },
    { key: "p99", label: "claim ack p99", unit: "ms", better: "lower" },
    { key: "exactlyOne", label: "conversations with exactly one winner", unit: "", better: "info" },
    { key: "wrong", label: "conversations with 0 or >1 winners", unit: "", better: "lower" },
  ],
  failover: [
    { key: "sockets", label: "customer sockets on the killed instance", unit: "", better: "info" },
    { key: "reconnectP50", label: "reconnected p50 after SIGKILL", unit: "ms", better: "lower" },
    { key: "reconnect99", label: "99 % reconnected after SIGKILL", unit: "ms", better: "lower" },
    { key: "reconnectAll", label: "100 % reconnected after SIGKILL", unit: "ms", better: "lower" },
    { key: "intended", label: "messages sent (each retried until acked)", unit: "", better: "info" },
    { key: "lost", label: "messages lost", unit: "", better: "lower" },
    { key: "duplicates", label: "messages duplicated", unit: "", better: "lower" },
  ],
};

export interface Row {
  scenario: Scenario;
  key: string;
  metric: string;
  unit: string;
  better: Metric["better"];
  desk: number | null;
  baseline: number | null;
  /** desk / baseline; null when not a finite number. */
  ratio: number | null;
}

export interface Target {
  name: string;
  pass: boolean;
  detail: string;
}

const finite = (n: number | undefined): number | null => (n !== undefined && Number.isFinite(n) ? n : null);

export function rowsOf(scenario: Scenario, desk: Values, baseline: Values): Row[] {
  return METRICS[scenario].map((m) => {
    const d = desk[m.key];
    const b = baseline[m.key];
    const ratio = d !== undefined && b !== undefined && b !== 0 ? d / b : d === 0 && b === 0 ? 1 : NaN;
    return { scenario, key: m.key, metric: m.label, unit: m.unit, better: m.better, desk: finite(d), baseline: finite(b), ratio: finite(ratio) };
  });
}

export function targetsOf(rows: Row[]): Target[] {
  const get = (s: Scenario, key: string) => rows.find((r) => r.scenario === s && r.key === key);
  const out: Target[] = [];
  const check = (s: Scenario, key: string, name: string, pass: (d: number, b: number) => boolean, detail: (d: number, b: number) => string) => {
    const r = get(s, key);
    if (!r) return;
    const ok = r.desk !== null && r.baseline !== null;
    out.push({ name, pass: ok && pass(r.desk!, r.baseline!), detail: ok ? detail(r.desk!, r.baseline!) : "not measured (non-finite)" });
  };
  const f = (n: number) => n.toFixed(2);
  check("latency", "p99", "latency p99 ≤ 1.5 × baseline", (d, b) => d <= 1.5 * b, (d, b) => `${f(d)} ms vs ${f(b)} ms (${f(d / b)}×)`);
  check("latency", "p50", "latency p50 ≤ baseline + 1 ms", (d, b) => d <= b + 1, (d, b) => `${f(d)} ms vs ${f(b)} ms (+${f(d - b)} ms)`);
  check("throughput", "sustained", "throughput ≥ 0.8 × baseline", (d, b) => d >= 0.8 * b, (d, b) => `${Math.round(d)} vs ${Math.round(b)} msg/s (${f(d / b)}×)`);
  check("memory", "heapPerSocket", "idle heap per socket ≤ 1.2 × baseline", (d, b) => d <= 1.2 * b, (d, b) => `${f(d)} vs ${f(b)} KiB (${f(d / b)}×)`);
  check("claims", "wrong", "claims: exactly one winner each", (d) => d === 0, (d) => `${d} conversations with 0 or >1 winners`);
  check("failover", "reconnect99", "failover: 99 % reconnected within 3 s", (d) => d <= 3000, (d) => `${Math.round(d)} ms`);
  check("failover", "lost", "failover: 0 messages lost", (d) => d === 0, (d) => `${d} lost`);
  return out;
}

function fmt(n: number | null, unit: string): string {
  if (n === null) return "n/a";
  if (unit === "" || unit === "msgs") return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function formatTable(rows: Row[]): string {
  const head = ["scenario", "metric", "unit", "desk", "baseline", "desk/baseline"];
  const body = rows.map((r) => [
    r.scenario,
    r.metric,
    r.unit,
    fmt(r.desk, r.unit),
    fmt(r.baseline, r.unit),
    r.ratio === null ? "—" : `${r.ratio.toFixed(2)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i >= 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export function formatTargets(targets: Target[]): string {
  return targets.map((t) => `${t.pass ? "PASS" : "MISS"}  ${t.name}: ${t.detail}`).join("\n");
}
