/**
 * `npm run bench`: the desk and a bare Socket.IO baseline, driven by the same load
 * generators on the same machine in the same run, scenario by scenario (desk, then
 * baseline, back to back). Prints one table and writes it with the machine to
 * bench/results/latest.json (or --out). See bench/README.md.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, resolve } from "node:path";
import { startRedis, type RedisHandle } from "../test/helpers/redis.js";
import { parseOptions, type BenchOptions, type Scenario } from "./lib/options.js";
import { installCleanup, killAll, repoRoot } from "./lib/procs.js";
import { formatTable, formatTargets, rowsOf, targetsOf, type Row } from "./lib/report.js";
import { startBaseline, startDesk, type System } from "./lib/systems.js";
import { formatWidget, widgetSize } from "./lib/widget.js";
import { ChatLoad, latencyRound, latencyTimeline, latencyValues, throughput, type Merged } from "./scenarios/chat.js";
import { claims } from "./scenarios/claims.js";
import { failover } from "./scenarios/failover.js";
import { memory } from "./scenarios/memory.js";
import type { Values } from "./scenarios/types.js";

const started = Date.now();
const log = (s: string) => console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${s}`);

function fdLimit(): number {
  try {
    return Number(execFileSync("sh", ["-c", "ulimit -n"]).toString().trim()) || Infinity;
  } catch {
    return Infinity;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    fdLimit: fdLimit(),
    /** 1-, 5- and 15-minute load averages at the start: anything well above 0 means a busy machine. */
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(opts: BenchOptions): Promise<void> {
  const notes: string[] = [];
  const m = machine();
  // server and generator each hold one descriptor per socket, plus a margin
  if (opts.scenarios.includes("memory") && opts.idleSockets + 256 > m.fdLimit) {
    const reduced = Math.max(100, m.fdLimit - 256);
    notes.push(`idle sockets reduced from ${opts.idleSockets} to ${reduced}: ulimit -n is ${m.fdLimit}`);
    opts.idleSockets = reduced;
  }
  for (const n of notes) log(n);
  log(`machine: ${m.cpu}, ${m.cores} cores, node ${m.node}, ulimit -n ${m.fdLimit}${opts.smoke ? " — SMOKE sizes" : ""}`);

  const results: Partial<Record<Scenario, { desk: Values; baseline: Values }>> = {};
  const timelines: Record<string, { desk: number[][]; baseline: number[][] }> = {};
  const wants = (s: Scenario) => opts.scenarios.includes(s);
  const redis: RedisHandle[] = [];
  const systems: System[] = [];
  try {
    const pairNeeded = opts.scenarios.some((s) => s !== "memory");
    let desk: System | undefined;
    let base: System | undefined;
    if (pairNeeded) {
      // one Redis each, so the two adapters never hear each other's broadcasts
      const [rd, rb] = await Promise.all([startRedis(), startRedis()]);
      redis.push(rd, rb);
      log("starting desk ×2 and baseline ×2");
      const profile = opts.cpuProf ? () => ["--cpu-prof", "--cpu-prof-dir", resolve(repoRoot, "bench/results/profiles")] : undefined;
      [desk, base] = await Promise.all([startDesk({ redisUrl: rd.url, nodeArgs: profile }), startBaseline({ redisUrl: rb.url })]);
      systems.push(desk, base);
    }

    if (wants("latency") || wants("throughput")) {
      const loads: ChatLoad[] = [];
      try {
        loads.push(await ChatLoad.start(desk!, opts, log));
        loads.push(await ChatLoad.start(base!, opts, log));
        const [deskLoad, baseLoad] = loads as [ChatLoad, ChatLoad];
        if (wants("latency")) {
          // alternating rounds, so that a slow spell of the machine hits both systems
          const rounds = Math.max(1, Math.round(opts.latencyRounds));
          log(`latency: ${opts.conversations} conversations × ${opts.latencyRate} msg/s for ${opts.latencySeconds} s, in ${rounds} alternating rounds`);
          const samples: { desk: Merged[]; baseline: Merged[] } = { desk: [], baseline: [] };
          for (let i = 0; i < rounds; i++) {
            samples.desk.push(await latencyRound(deskLoad, opts, opts.latencySeconds / rounds, i === 0));
            samples.baseline.push(await latencyRound(baseLoad, opts, opts.latencySeconds / rounds, i === 0));
          }
          const d = latencyValues(deskLoad, samples.desk);
          const b = latencyValues(baseLoad, samples.baseline);
          results.latency = { desk: d, baseline: b };
          timelines.latencyP99BySecond = { desk: latencyTimeline(samples.desk), baseline: latencyTimeline(samples.baseline) };
          log(`latency p50/p99: desk ${d.p50!.toFixed(2)}/${d.p99!.toFixed(2)} ms, baseline ${b.p50!.toFixed(2)}/${b.p99!.toFixed(2)} ms`);
        }
        if (wants("throughput")) {
          log(`throughput: ramp ×${opts.stepFactor} from ${opts.conversations * opts.latencyRate} msg/s until p99 > ${opts.p99LimitMs} ms`);
          results.throughput = { desk: await throughput(deskLoad, opts, log), baseline: await throughput(baseLoad, opts, log) };
        }
      } finally {
        await Promise.all(loads.map((l) => l.close()));
      }
    }
    if (wants("memory")) {
      results.memory = { desk: await memory("desk", opts, log), baseline: await memory("baseline", opts, log) };
    }
    if (wants("claims")) {
      results.claims = { desk: await claims(desk!, opts, log), baseline: await claims(base!, opts, log) };
    }
    if (wants("failover")) {
      results.failover = { desk: await failover(desk!, opts, log), baseline: await failover(base!, opts, log) };
    }
  } finally {
    await Promise.allSettled(systems.map((s) => s.stop()));
    await Promise.allSettled(redis.map((r) => r.stop()));
  }

  const rows: Row[] = opts.scenarios.flatMap((s) => (results[s] ? rowsOf(s, results[s].desk, results[s].baseline) : []));
  const targets = targetsOf(rows);
  const widget = widgetSize(repoRoot);
  const seconds = (Date.now() - started) / 1000;
  const machineLine = `${m.cpu} · ${m.cores} cores · ${m.memoryGiB} GiB · node ${m.node} · ${m.os} · ulimit -n ${m.fdLimit} · load avg at start ${m.loadavg.join(" ")}`;
  const report = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round(seconds),
    smoke: opts.smoke,
    machine: m,
    machineLine,
    options: opts,
    rows,
    targets,
    widget,
    raw: results,
    timelines,
    notes,
  };
  const out = resolve(repoRoot, opts.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + "\n");

  console.log(`\nlivedesk bench — ${machineLine}${opts.smoke ? " — SMOKE (tiny sizes, numbers mean nothing)" : ""}`);
  console.log(
    `sizes: ${opts.conversations} conversations (${opts.perAgent}/agent), ${opts.idleSockets} idle sockets, ` +
      `${opts.claimConversations} claims × ${opts.claimContenders} of ${opts.claimAgents} agents, ${opts.failoverSockets} failover sockets\n`,
  );
  console.log(formatTable(rows));
  console.log(`\n${formatTargets(targets)}`);
  console.log(formatWidget(widget));
  for (const n of notes) console.log(`note: ${n}`);
  console.log(`\nwritten to ${opts.out} in ${seconds.toFixed(0)} s`);
}

installCleanup();
let opts: BenchOptions;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (err) {
  console.error((err as Error).message);
  process.exit(2);
}
const limit = setTimeout(() => {
  console.error(`bench: over its ${opts.maxMinutes}-minute limit, stopping everything`);
  killAll();
  process.exit(3);
}, opts.maxMinutes * 60_000);
limit.unref();
main(opts).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error("bench failed:", err instanceof Error ? err.stack ?? err.message : err);
    killAll();
    process.exit(1);
  },
);
