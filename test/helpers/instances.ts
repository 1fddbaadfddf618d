/**
 * Real desk server processes (`node --import tsx server/index.ts`) for multi-instance,
 * crash and proxy tests. Each is stopped by its own pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { freePort } from "./redis.js";
import { ADMIN } from "./desk.js";

export interface Instance {
  url: string;
  port: number;
  pid: number;
  /** Everything the process wrote, for failure messages. */
  output(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

export const FAST_ENV = {
  DESK_SECRET: "multi-instance-test-secret-0123456789",
  DESK_ADMIN_EMAIL: ADMIN.email,
  DESK_ADMIN_PASSWORD: ADMIN.password,
  DESK_PRESENCE_GRACE_MS: "300",
  DESK_PRESENCE_TTL_MS: "1500",
  DESK_PRESENCE_HEARTBEAT_MS: "150",
  DESK_RATE_LIMITS: "off",
  DESK_CLIENT_DIR: "/nonexistent",
  LOG_LEVEL: "warn",
};

export async function startInstance(env: Record<string, string> = {}): Promise<Instance> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    env: { ...process.env, ...FAST_ENV, LOG_LEVEL: "info", HOST: "127.0.0.1", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => {
    live.delete(child);
    resolve(code);
  }));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start in 20 s:\n${out}`)), 20_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"msg":"livedesk listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`instance exited with ${code} before listening:\n${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Starts `n` instances on one Redis. */
export function startInstances(n: number, redisUrl: string, env: Record<string, string> = {}): Promise<Instance[]> {
  return Promise.all(Array.from({ length: n }, () => startInstance({ REDIS_URL: redisUrl, ...env })));
}
