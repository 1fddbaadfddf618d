/**
 * Keeps `npm run bench` from rotting: runs it in smoke mode (tiny sizes, every scenario)
 * and checks the report's shape and correctness numbers — never performance thresholds.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { SCENARIOS } from "../bench/lib/options.js";
import { METRICS, type Row } from "../bench/lib/report.js";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "livedesk-bench-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runSmoke(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke", "--out", out], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    // the bench stops everything it started by pid when it gets SIGTERM
    const timer = setTimeout(() => child.kill("SIGTERM"), 85_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe("npm run bench --smoke", () => {
  it("measures every scenario on the desk and the baseline, with no lost message and one winner per claim", async () => {
    const out = join(dir, "smoke.json");
    const { code, output } = await runSmoke(out);
    expect(code, output).toBe(0);
    const report = JSON.parse(readFileSync(out, "utf8")) as {
      smoke: boolean;
      machine: { cpu: string; cores: number; node: string };
      rows: Row[];
    };
    expect(report.smoke).toBe(true);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.machine.node).toMatch(/^v\d+/);

    for (const scenario of SCENARIOS) {
      for (const metric of METRICS[scenario]) {
        const row = report.rows.find((r) => r.scenario === scenario && r.key === metric.key);
        expect(row, `${scenario}/${metric.key} missing`).toBeDefined();
        expect(Number.isFinite(row!.desk), `${scenario}/${metric.key} desk = ${row!.desk}`).toBe(true);
        expect(Number.isFinite(row!.baseline), `${scenario}/${metric.key} baseline = ${row!.baseline}`).toBe(true);
      }
    }
    const value = (scenario: string, key: string) => report.rows.find((r) => r.scenario === scenario && r.key === key)!;
    expect(value("failover", "lost").desk).toBe(0);
    expect(value("failover", "lost").baseline).toBe(0);
    expect(value("failover", "duplicates").desk).toBe(0);
    expect(value("latency", "undelivered").desk).toBe(0);
    expect(value("claims", "wrong").desk).toBe(0);
    expect(value("claims", "wrong").baseline).toBe(0);
    expect(output).toContain("desk/baseline");
  }, 90_000);
});
