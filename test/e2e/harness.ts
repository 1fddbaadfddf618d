/**
 * What the browser tests stand on: the client built once into a temporary directory, the
 * real server started as a child process on a free port, and a headless Chromium.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { build } from "vite";

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)));
export const ADMIN = { email: "admin@example.com", password: "admin-password-1" };

/** Builds the client with the repository's vite.config.ts into a fresh directory. */
export async function buildClient(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "livedesk-client-"));
  await build({
    configFile: join(repoRoot, "vite.config.ts"),
    logLevel: "warn",
    build: { outDir: dir, emptyOutDir: true },
  });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunningDesk {
  url: string;
  stop(): Promise<void>;
}

/** Starts `node --import tsx server/index.ts` and resolves once `/healthz` answers. */
export async function startDesk(clientDir: string): Promise<RunningDesk> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      DESK_ADMIN_EMAIL: ADMIN.email,
      DESK_ADMIN_PASSWORD: ADMIN.password,
      DESK_SECRET: "e2e-secret-e2e-secret-e2e-secret-0123456789",
      DESK_CLIENT_DIR: clientDir,
      LOG_LEVEL: "warn",
      REDIS_URL: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The desk exited with ${child.exitCode}:\n${output}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`The desk did not answer /healthz within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      process.kill(child.pid!, "SIGTERM");
      const timer = setTimeout(() => child.pid && child.exitCode === null && process.kill(child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
  "--disable-sync",
];

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it with \`apt-get install -y chromium\` ` +
        "or point CHROMIUM_PATH at a Chromium binary.",
    );
  }
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}
