/**
 * `npm run fuzz [-- --duration=60 --seed=N --concurrency=8 --limits=on]` (or FUZZ_DURATION, FUZZ_SEED, FUZZ_LIMITS):
 * fuzzes an in-process desk and exits non-zero on any finding. Replay a run with its seed.
 */
import { runFuzz, type FuzzReport } from "./engine.js";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const positional = process.argv.slice(2).find((a) => /^\d+$/.test(a));
const seconds = Number(arg("duration") ?? positional ?? process.env.FUZZ_DURATION ?? 60);
const seedRaw = arg("seed") ?? process.env.FUZZ_SEED;
const concurrency = Number(arg("concurrency") ?? 8);
// `--limits=on`: fuzz with the production rate limits and caps (default: off, to reach deeper code)
const limits = (arg("limits") ?? process.env.FUZZ_LIMITS) === "on";

console.log(`fuzzing for ${seconds} s (concurrency ${concurrency}, limits ${limits ? "on" : "off"}${seedRaw ? `, seed ${seedRaw}` : ""}) …`);
const report = await runFuzz({
  durationMs: seconds * 1000,
  seed: seedRaw ? Number(seedRaw) : undefined,
  concurrency,
  ...(limits && { env: { DESK_RATE_LIMITS: "" } }),
});
print(report);
process.exit(report.failures.length ? 1 : 0);

function print(r: FuzzReport) {
  const perSecond = (n: number) => Math.round(n / (r.durationMs / 1000));
  console.log(`seed ${r.seed}`);
  console.log(`iterations ${r.iterations} (${perSecond(r.iterations)}/s): socket calls ${r.socketCalls}, HTTP requests ${r.httpRequests}, raw frames ${r.rawFrames}, health checks ${r.healthChecks}`);
  console.log(`events fuzzed: ${r.events.fuzzed.join(", ")}`);
  if (r.events.unregistered.length) console.log(`protocol events the server does not listen to (skipped): ${r.events.unregistered.join(", ")}`);
  console.log(`acks: ${fmt(r.acks)}`);
  console.log(`HTTP statuses: ${fmt(r.statuses)}`);
  if (!r.failures.length) {
    console.log("no findings: the desk stayed healthy, answered every ack in time and never said internal or 5xx");
    return;
  }
  const kinds: Record<string, number> = {};
  for (const f of r.failures) kinds[`${f.kind} ${f.target}`] = (kinds[`${f.kind} ${f.target}`] ?? 0) + 1;
  console.log(`${r.failures.length} finding(s): ${fmt(kinds)}`);
  for (const f of r.failures.slice(0, 30)) console.log(`- [${f.kind}] ${f.target}: ${f.detail}${f.input ? `\n    input: ${f.input}` : ""}`);
}

function fmt(counts: Record<string, number>) {
  return Object.entries(counts).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
}
