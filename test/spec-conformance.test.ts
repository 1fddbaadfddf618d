/**
 * SPEC conformance: one real server process (`node --import tsx server/index.ts`) driven
 * by a client written only from SPEC.md (test/spec-client/flow.ts). One `it` per step
 * group, named by the rule it checks; a failure lists every broken check of that group.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSpecFlow, SPEC_GROUPS, type Report } from "./spec-client/flow.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ADMIN = { email: "spec-admin@example.com", password: "spec-admin-password-0123" };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

let child: ChildProcess | null = null;
let output = "";
let report: Report | null = null;
let setupError: unknown = null;

async function waitHealthy(url: string, exited: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 20_000;
  let dead = false;
  void exited.then(() => (dead = true));
  while (Date.now() < deadline && !dead) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not answer /healthz${dead ? " (process exited)" : " within 20 s"}:\n${output}`);
}

beforeAll(async () => {
  try {
    const port = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const proc = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        DESK_ADMIN_EMAIL: ADMIN.email,
        DESK_ADMIN_PASSWORD: ADMIN.password,
        DESK_SECRET: "spec-conformance-secret-0123456789abcdef",
        DESK_RATE_LIMITS: "off",
        LOG_LEVEL: "warn",
        REDIS_URL: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    proc.stdout!.on("data", (c: Buffer) => (output += c.toString()));
    proc.stderr!.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise((resolve) => proc.once("exit", resolve));
    await waitHealthy(baseUrl, exited);
    report = await runSpecFlow(baseUrl, ADMIN);
  } catch (err) {
    setupError = err;
  }
}, 40_000);

afterAll(async () => {
  const proc = child;
  if (!proc?.pid || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  process.kill(proc.pid, "SIGTERM");
  const killer = setTimeout(() => {
    if (proc.pid && proc.exitCode === null) process.kill(proc.pid, "SIGKILL");
  }, 10_000);
  await exited;
  clearTimeout(killer);
}, 15_000);

describe("SPEC conformance (client written from SPEC.md only)", () => {
  for (const [id, title] of SPEC_GROUPS) {
    it(title, () => {
      if (setupError) throw setupError instanceof Error ? setupError : new Error(String(setupError));
      const group = report?.groups.find((g) => g.id === id);
      expect(group, `group ${id} did not run`).toBeDefined();
      const failed = group!.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ""}`);
      expect(group!.checks.length, `group ${id} made no checks`).toBeGreaterThan(0);
      expect(failed, `broken rules in "${title}"`).toEqual([]);
    });
  }

  it("server process logged no crash while the flow ran", () => {
    expect(child?.exitCode ?? null, output).toBeNull();
    expect(output).not.toMatch(/unhandled|uncaught|TypeError|ReferenceError/i);
  });
});
