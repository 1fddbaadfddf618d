/**
 * Load generator for latency and throughput. Holds both ends of its conversations — each
 * agent socket (instance B) and its customers' sockets (instance A) — so a message is timed
 * from the customer's send to the assignee's `message:new` on one clock (`performance.now()`).
 * The send schedule is open-loop: the rate is kept whether or not the server keeps up.
 */
import { performance } from "node:perf_hooks";
import type { Socket } from "socket.io-client";
import { bodyOf, closeAll, connect, pool, request, sleep, type Auth } from "./lib/client.js";
import { serve } from "./lib/rpc.js";

export interface ChatAgent {
  auth: Auth;
  conversations: { id: string; customerAuth: Auth }[];
}
export interface ChatSetup {
  name: string;
  customerUrl: string;
  agentUrl: string;
  agents: ChatAgent[];
  bodyBytes: number;
  concurrency: number;
}
export interface ChatRun {
  /** Messages per second over all this generator's conversations. */
  rate: number;
  durationMs: number;
  /** How long to wait for stragglers after the last send. */
  drainMs: number;
}
export interface ChatResult {
  sent: number;
  acked: number;
  ackErrors: number;
  delivered: number;
  undelivered: number;
  latencies: Float64Array;
  /** When each of `latencies` was sent, ms after the run's start (for a timeline). */
  sentAt: Float64Array;
  ackLatencies: Float64Array;
  sendWindowMs: number;
  /** Worst lateness of the send scheduler (the generator's own event-loop lag), ms. */
  schedulerLagMs: number;
}

interface Pending {
  t0: number;
  acked: boolean;
  delivered: boolean;
}

const agents: Socket[] = [];
const customers: Socket[] = [];
const pending = new Map<string, Pending>();
let latencies: number[] = [];
let sentAt: number[] = [];
let runStart = 0;
let ackLatencies: number[] = [];
let body = "";
let name = "chat";
let counter = 0;
let ackErrors = 0;
let firstError = "";

function onDelivered(message: { clientId?: string; author?: { role?: string } }) {
  if (message.author?.role !== "customer" || !message.clientId) return;
  const p = pending.get(message.clientId);
  if (!p || p.delivered) return;
  p.delivered = true;
  latencies.push(performance.now() - p.t0);
  sentAt.push(p.t0 - runStart);
  if (p.acked) pending.delete(message.clientId);
}

function send(customer: Socket): void {
  const clientId = `${name}-${++counter}`;
  const p: Pending = { t0: performance.now(), acked: false, delivered: false };
  pending.set(clientId, p);
  customer.emit("message:send", { clientId, body }, (res: { ok: boolean; error?: { code: string } }) => {
    p.acked = true;
    if (res?.ok) ackLatencies.push(performance.now() - p.t0);
    else {
      ackErrors++;
      firstError ||= JSON.stringify(res);
    }
    if (p.delivered) pending.delete(clientId);
  });
}

async function drain(maxMs: number): Promise<void> {
  const until = performance.now() + maxMs;
  while (performance.now() < until) {
    let open = 0;
    for (const p of pending.values()) if (!p.delivered || !p.acked) open++;
    if (open === 0) return;
    await sleep(20);
  }
}

serve({
  async setup(args: ChatSetup) {
    name = args.name;
    body = bodyOf(args.bodyBytes);
    const convs = args.agents.flatMap((a, ai) => a.conversations.map((c) => ({ ...c, ai })));
    // agents first (on B), each claims its conversations, then the customers (on A)
    await pool(args.agents, args.concurrency, async (a, i) => {
      const socket = await connect(args.agentUrl, a.auth);
      socket.on("message:new", onDelivered);
      agents[i] = socket;
      for (const c of a.conversations) {
        const res = await request(socket, "conversation:claim", { conversationId: c.id }, 30_000);
        if (!res.ok) throw new Error(`claim of ${c.id} failed: ${JSON.stringify(res)}`);
      }
    });
    await pool(convs, args.concurrency, async (c, i) => {
      customers[i] = await connect(args.customerUrl, c.customerAuth);
    });
    // one message per conversation proves every route (A → Redis → B) before timing starts
    for (const c of customers) send(c);
    await drain(20_000);
    const missing = [...pending.values()].filter((p) => !p.delivered).length;
    if (missing > 0) throw new Error(`${missing} of ${customers.length} warm-up messages never reached the agent (${firstError})`);
    pending.clear();
    return { agents: agents.length, customers: customers.length };
  },

  async run(args: ChatRun): Promise<ChatResult> {
    latencies = [];
    sentAt = [];
    ackLatencies = [];
    ackErrors = 0;
    pending.clear();
    const n = customers.length;
    let sent = 0;
    let rr = 0;
    let lag = 0;
    const start = performance.now();
    runStart = start;
    const tickMs = 2;
    await new Promise<void>((resolve) => {
      let expected = start;
      const tick = () => {
        const now = performance.now();
        lag = Math.max(lag, now - expected);
        const elapsed = now - start;
        const due = Math.min(Math.floor((args.rate * Math.min(elapsed, args.durationMs)) / 1000), Math.ceil((args.rate * args.durationMs) / 1000));
        for (; sent < due; sent++) send(customers[rr++ % n]!);
        if (elapsed >= args.durationMs) return resolve();
        expected = now + tickMs;
        setTimeout(tick, tickMs);
      };
      tick();
    });
    const sendWindowMs = performance.now() - start;
    await drain(args.drainMs);
    let undelivered = 0;
    for (const p of pending.values()) if (!p.delivered) undelivered++;
    pending.clear();
    return {
      sent,
      acked: ackLatencies.length,
      ackErrors,
      delivered: latencies.length,
      undelivered,
      latencies: Float64Array.from(latencies),
      sentAt: Float64Array.from(sentAt),
      ackLatencies: Float64Array.from(ackLatencies),
      sendWindowMs,
      schedulerLagMs: lag,
    };
  },

  close() {
    closeAll(customers);
    closeAll(agents);
    customers.length = 0;
    agents.length = 0;
    return {};
  },
});
