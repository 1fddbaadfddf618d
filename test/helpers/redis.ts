/**
 * Starts real `redis-server` processes for tests: each on a free port of 127.0.0.1,
 * stopped by its own pid (never by name), killed on process exit if a test forgot.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface RedisOptions {
  /** Persist with an append-only file in a temp dir, so `kill()` + `restart()` keeps data. */
  aof?: boolean;
  /** AOF fsync policy (only with `aof`). Default `everysec`. */
  appendfsync?: "everysec" | "always";
  /** Fixed port; default a free one. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--maxmemory", "10mb"]`. */
  args?: string[];
  /** How long to wait for "Ready to accept connections", ms. Default 10 000. */
  readyTimeoutMs?: number;
}

export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  /** pid of the current process (changes on `restart()`). */
  readonly pid: number;
  /** The working dir (holds the AOF when `aof` is set). */
  readonly dir: string;
  readonly running: boolean;
  /** SIGTERM and wait for exit (Redis flushes its AOF on the way out). */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit: a crash. */
  kill(): Promise<void>;
  /** Start again on the same port and dir (AOF data comes back); stops it first if running. */
  restart(): Promise<void>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
}

/** The `redis-server` binary: `REDIS_SERVER_BIN`, else the first on `PATH`. */
export function redisServerBin(): string {
  const fromEnv = process.env.REDIS_SERVER_BIN;
  const candidates = fromEnv ? [fromEnv] : (process.env.PATH ?? "").split(delimiter).filter(Boolean).map((d) => join(d, "redis-server"));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    "redis-server not found: install it with `apt-get install -y redis-server` or set REDIS_SERVER_BIN" +
      (fromEnv ? ` (REDIS_SERVER_BIN=${fromEnv} is not executable)` : ""),
  );
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error("could not get a free port"))));
    });
  });
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** Spawns one redis-server and resolves once it logs that it accepts connections. */
function spawnRedis(bin: string, args: string[], timeoutMs: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let log = "";
    let settled = false;
    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        if (child.exitCode === null && child.pid !== undefined) child.kill("SIGKILL");
        reject(err);
      } else resolve(child);
    };
    const onData = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-8000);
      if (log.includes("Ready to accept connections")) settle();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (err) => settle(new Error(`could not start ${bin}: ${err.message}`)));
    child.once("exit", (code, signal) => {
      live.delete(child);
      settle(new StartError(`redis-server exited (${code ?? signal}) before it was ready:\n${log}`, /address already in use/i.test(log)));
    });
    const timer = setTimeout(() => settle(new Error(`redis-server not ready after ${timeoutMs} ms:\n${log}`)), timeoutMs);
  });
}

/** Starts a redis-server; see {@link RedisOptions}. */
export async function startRedis(opts: RedisOptions = {}): Promise<RedisHandle> {
  const bin = redisServerBin();
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), "livedesk-redis-"));
  dirs.add(dir);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const argsFor = (port: number) => [
    "--port", String(port),
    "--bind", "127.0.0.1",
    "--dir", dir,
    "--save", "",
    "--daemonize", "no",
    "--loglevel", "notice",
    ...(opts.aof ? ["--appendonly", "yes", "--appendfsync", opts.appendfsync ?? "everysec"] : ["--appendonly", "no"]),
    ...(opts.args ?? []),
  ];

  // A free port can be taken between freePort() and spawn: retry with another.
  let port = opts.port ?? (await freePort());
  let child: ChildProcess | undefined;
  for (let attempt = 0; !child; attempt++) {
    try {
      child = await spawnRedis(bin, argsFor(port), readyTimeoutMs);
    } catch (err) {
      if (!(err instanceof StartError && err.portInUse) || opts.port !== undefined || attempt >= 4) throw err;
      port = await freePort();
    }
  }

  let current: ChildProcess = child;
  const signal = async (sig: NodeJS.Signals) => {
    const proc = current;
    if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
    const exited = waitExit(proc);
    process.kill(proc.pid, sig);
    await exited;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return current.pid!;
    },
    get running() {
      return current.exitCode === null && current.signalCode === null;
    },
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    async restart() {
      await signal("SIGTERM");
      current = await spawnRedis(bin, argsFor(port), readyTimeoutMs);
    },
  };
}
