/**
 * Load generator for failover. Its customers start on instance A and keep sending; this
 * process SIGKILLs A itself (so the kill and every reconnection are timed on one clock);
 * each customer then reconnects round-robin over the instance URLs with socket.io-client's
 * default backoff (1 s ± 50 %, doubling, at most 5 s) and retries every unacknowledged
 * message with the same clientId until it is acknowledged. At the end the stored history
 * (desk) or the echoed broadcasts (baseline, which stores nothing) are compared with what
 * each customer meant to send.
 */
import { performance } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { bodyOf, closeAll, connect, pool, request, sleep, type AckResult, type Auth } from "./lib/client.js";
import { serve } from "./lib/rpc.js";

export interface FailoverArgs {
  name: string;
  /** Customers start on urls[0]; reconnections go round-robin from there. */
  urls: string[];
  /** The pid of the instance behind urls[0], killed with SIGKILL. */
  killPid: number;
  customers: Auth[];
  /** Messages each customer sends, one every `intervalMs` (random phase). */
  messages: number;
  intervalMs: number;
  killAfterMs: number;
  ackTimeoutMs: number;
  reconnectDelayMs: number;
  reconnectDelayMaxMs: number;
  /** `history`: compare with the stored history; `echo`: with the broadcasts received. */
  verify: "history" | "echo";
  deadlineMs: number;
  bodyBytes: number;
  concurrency: number;
}
export interface FailoverResult {
  sockets: number;
  disconnected: number;
  /** Time from the SIGKILL to each dropped socket's reconnection, ms (Infinity: never). */
  reconnectMs: Float64Array;
  intended: number;
  acked: number;
  unacked: number;
  retries: number;
  lost: number;
  duplicates: number;
  sendErrors: number;
  firstError: string;
}

interface Customer {
  index: number;
  auth: Auth;
  socket: Socket | null;
  urlIndex: number;
  attempts: number;
  dropped: boolean;
  reconnectMs: number;
  received: Set<string>;
  intended: string[];
  wake: (() => void)[];
}

const FATAL = new Set(["invalid_payload", "unauthorized", "forbidden", "not_found", "conversation_closed"]);
let closing = false;
let customers: Customer[] = [];

serve({
  async run(args: FailoverArgs): Promise<FailoverResult> {
    const body = bodyOf(args.bodyBytes);
    let killAt = 0;
    let acked = 0;
    let retries = 0;
    let sendErrors = 0;
    let firstError = "";
    const gone = new WeakMap<Socket, Promise<never>>();

    const attach = (c: Customer, socket: Socket) => {
      c.socket = socket;
      c.attempts = 0;
      const dropped = new Promise<never>((_, reject) => socket.once("disconnect", (reason) => reject(new Error(`disconnected: ${reason}`))));
      dropped.catch(() => undefined);
      gone.set(socket, dropped);
      socket.on("message:new", (m: { clientId?: string }) => m.clientId && c.received.add(m.clientId));
      socket.once("disconnect", () => {
        socket.close();
        if (closing) return;
        c.socket = null;
        c.dropped = true;
        c.urlIndex = (c.urlIndex + 1) % args.urls.length;
        reconnect(c);
      });
      for (const w of c.wake.splice(0)) w();
    };

    // socket.io-client's reconnection schedule: delay × 2^attempt, ±50 % jitter, capped
    const backoff = (attempt: number) => {
      const base = Math.min(args.reconnectDelayMs * 2 ** attempt, args.reconnectDelayMaxMs);
      return base * (0.5 + Math.random());
    };
    const reconnect = (c: Customer) => {
      setTimeout(async () => {
        if (closing) return;
        try {
          const socket = await connect(args.urls[c.urlIndex]!, c.auth, 5000);
          if (closing) return void socket.close();
          if (killAt && !Number.isFinite(c.reconnectMs)) c.reconnectMs = performance.now() - killAt;
          attach(c, socket);
        } catch {
          c.urlIndex = (c.urlIndex + 1) % args.urls.length;
          reconnect(c);
        }
      }, backoff(c.attempts++));
    };
    const ready = async (c: Customer): Promise<Socket> => {
      while (!c.socket?.connected) await new Promise<void>((r) => c.wake.push(r));
      return c.socket;
    };

    closing = false;
    customers = args.customers.map((auth, index) => ({
      index, auth, socket: null, urlIndex: 0, attempts: 0, dropped: false,
      reconnectMs: Infinity, received: new Set(), intended: [], wake: [],
    }));
    await pool(customers, args.concurrency, async (c) => attach(c, await connect(args.urls[0]!, c.auth, 30_000)));

    const start = performance.now();
    const deadline = start + args.deadlineMs;
    const send = async (c: Customer, i: number) => {
      const clientId = `${args.name}-${c.index}-${i}`;
      c.intended.push(clientId);
      for (let attempt = 0; performance.now() < deadline; attempt++) {
        if (attempt > 0) retries++;
        const socket = await Promise.race([ready(c), sleep(deadline - performance.now()).then(() => null)]);
        if (!socket) break;
        try {
          const res: AckResult = await Promise.race([request(socket, "message:send", { clientId, body }, args.ackTimeoutMs), gone.get(socket)!]);
          if (res.ok) {
            acked++;
            return;
          }
          if (FATAL.has(res.error.code)) {
            sendErrors++;
            firstError ||= JSON.stringify(res.error);
            return;
          }
          await sleep(100);
        } catch {
          // no ack (timeout or the connection dropped): retry with the same clientId
        }
      }
    };
    const loops = customers.map(async (c) => {
      const phase = Math.random() * args.intervalMs;
      for (let i = 0; i < args.messages; i++) {
        const wait = start + phase + i * args.intervalMs - performance.now();
        if (wait > 0) await sleep(wait);
        await send(c, i);
      }
    });
    const killer = (async () => {
      await sleep(args.killAfterMs);
      killAt = performance.now();
      process.kill(args.killPid, "SIGKILL");
    })();
    await Promise.all([...loops, killer]);
    // every dropped socket back (or the deadline)
    while (customers.some((c) => c.dropped && !c.socket?.connected) && performance.now() < deadline) await sleep(50);

    let lost = 0;
    let duplicates = 0;
    await pool(customers, args.concurrency, async (c) => {
      const seen = new Map<string, number>();
      if (args.verify === "history") {
        const socket = c.socket?.connected ? c.socket : null;
        const res = socket ? await request(socket, "history", { afterSeq: 0 }, 20_000).catch(() => null) : null;
        if (!res?.ok) {
          lost += c.intended.length;
          firstError ||= `history failed: ${JSON.stringify(res)}`;
          return;
        }
        for (const m of res.messages as { clientId?: string }[]) if (m.clientId) seen.set(m.clientId, (seen.get(m.clientId) ?? 0) + 1);
      } else for (const id of c.received) seen.set(id, 1);
      for (const id of c.intended) {
        const n = seen.get(id) ?? 0;
        if (n === 0) lost++;
        if (n > 1) duplicates += n - 1;
      }
    });
    const intended = customers.reduce((n, c) => n + c.intended.length, 0);
    return {
      sockets: customers.length,
      disconnected: customers.filter((c) => c.dropped).length,
      reconnectMs: Float64Array.from(customers.filter((c) => c.dropped).map((c) => c.reconnectMs)),
      intended,
      acked,
      unacked: intended - acked - sendErrors,
      retries,
      lost,
      duplicates,
      sendErrors,
      firstError,
    };
  },
  close() {
    closing = true;
    closeAll(customers.map((c) => c.socket ?? undefined));
    customers = [];
    return {};
  },
});
