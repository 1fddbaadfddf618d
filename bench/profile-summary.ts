/**
 * Where a desk instance spent its CPU: reads `.cpuprofile` files written by
 * `npm run bench -- --cpu-prof` and prints self time by function and by package/file.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/*.cpuprofile [--top 30]
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topAt = args.indexOf("--top");
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 30;
if (args.length === 0) {
  console.error("usage: tsx bench/profile-summary.ts <file.cpuprofile>… [--top N]");
  process.exit(2);
}

const where = (url: string) => {
  const path = url.replace(/^file:\/\//, "");
  const nm = path.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = path.slice(nm + 13).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (path.startsWith("node:") || path === "") return path || "(native/V8)";
  const i = path.indexOf("/server/");
  return i >= 0 ? path.slice(i + 1) : path.slice(path.lastIndexOf("/", path.lastIndexOf("/") - 1) + 1);
};

for (const file of args) {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)").reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, t] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === "(idle)") continue;
    const name = `${functionName || "(anonymous)"}  ${where(url)}${url ? `:${lineNumber + 1}` : ""}`;
    fn.set(name, (fn.get(name) ?? 0) + t);
    const group = functionName === "(garbage collector)" ? "(garbage collector)" : functionName === "(program)" ? "(program)" : where(url);
    pkg.set(group, (pkg.get(group) ?? 0) + t);
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)} %)`);
  console.log("\nself time by package / file (share of busy time):");
  for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(t)}  ${k}`);
  console.log(`\nself time by function (top ${top}):`);
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(t)}  ${k}`);
}
