/**
 * Every process the bench starts: servers (spawned) and load generators (forked), each
 * tracked by pid and stopped by pid on the way out — normal exit, error, SIGINT or SIGTERM.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const live = new Set<ChildProcess>();

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null && c.pid !== undefined;

function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once("exit", () => live.delete(child));
  return child;
}

/** SIGKILLs every tracked process that is still running (synchronous: safe in an exit hook). */
export function killAll(): void {
  for (const child of live) {
    if (!alive(child)) continue;
    try {
      process.kill(child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

let cleanupInstalled = false;
/** Stops everything on exit, Ctrl-C, SIGTERM or a crash of the orchestrator. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.once("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.error(`\nbench: ${signal}, stopping every process it started`);
      killAll();
      process.exit(130);
    });
  }
}

function waitExit(child: ChildProcess): Promise<void> {
  if (!alive(child)) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (!alive(child)) return;
  const exited = waitExit(child);
  process.kill(child.pid!, "SIGTERM");
  const timer = setTimeout(() => alive(child) && process.kill(child.pid!, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface ServerProc {
  name: string;
  url: string;
  port: number;
  pid: number;
  child: ChildProcess;
  readonly running: boolean;
  /** The last lines it printed (for error messages). */
  tail(): string;
  /** Resident set size from /proc/<pid>/status, bytes. */
  rss(): number;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface ServerSpec {
  name: string;
  /** Path relative to the repo root, run with `node --import tsx`. */
  script: string;
  port: number;
  env: Record<string, string>;
  nodeArgs?: string[];
  /** Polled until it answers 200. */
  readyPath: string;
  readyTimeoutMs?: number;
}

export async function startServer(spec: ServerSpec): Promise<ServerProc> {
  const child = track(
    spawn(process.execPath, [...(spec.nodeArgs ?? []), "--import", "tsx", spec.script], {
      cwd: repoRoot,
      env: { ...process.env, ...spec.env, PORT: String(spec.port) },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let out = "";
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-6000);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const url = `http://127.0.0.1:${spec.port}`;
  const proc: ServerProc = {
    name: spec.name,
    url,
    port: spec.port,
    pid: child.pid!,
    child,
    get running() {
      return alive(child);
    },
    tail: () => out,
    rss: () => rssOf(child.pid!),
    stop: () => stopChild(child),
    async kill() {
      if (!alive(child)) return;
      const exited = waitExit(child);
      process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
  const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
  for (;;) {
    if (!alive(child)) throw new Error(`${spec.name} exited before it was ready:\n${out}`);
    try {
      const res = await fetch(url + spec.readyPath, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return proc;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.kill();
      throw new Error(`${spec.name} not ready after ${spec.readyTimeoutMs ?? 30_000} ms:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** VmRSS of a process, bytes (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

/**
 * A load generator: a forked `bench/load-*.ts` that answers commands over IPC
 * (see `serve` in ./rpc.ts). Structured-clone serialisation carries typed arrays.
 */
export class Generator {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private exitError: Error | null = null;

  constructor(
    readonly name: string,
    script: string,
  ) {
    this.child = track(
      fork(fileURLToPath(new URL(script, new URL("../", import.meta.url))), [], {
        cwd: repoRoot,
        execArgv: ["--import", "tsx", "--max-old-space-size=4096"],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    this.child.on("message", (msg: Reply) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (msg.ok) w.resolve(msg.result);
      else w.reject(new Error(`${this.name}: ${msg.error}`));
    });
    this.child.once("exit", (code, signal) => {
      this.exitError = new Error(`${this.name} exited (${code ?? signal})`);
      for (const w of this.waiting.values()) w.reject(this.exitError);
      this.waiting.clear();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  call<T>(cmd: string, args: unknown = {}, timeoutMs = 300_000): Promise<T> {
    if (this.exitError) return Promise.reject(this.exitError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${this.name}: "${cmd}" took more than ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.child.send({ id, cmd, args });
    });
  }

  /** Asks it to close its sockets, then stops it by pid. */
  async close(): Promise<void> {
    if (!alive(this.child)) return;
    await this.call("close", {}, 10_000).catch(() => undefined);
    await stopChild(this.child, 2000);
  }
}
