/** Prometheus metrics, one registry per app (several apps may share a process in tests). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Store } from "./store/store.js";

export interface Metrics {
  registry: Registry;
  /** Time from receiving a client event to answering its ack. */
  ack: Histogram<"event" | "outcome">;
  claim: Histogram<"outcome">;
  messagesStored: Counter;
  storeErrors: Counter;
  /** Records one answered client event. */
  observe(event: string, seconds: number, outcome: string): void;
}

export function createMetrics(sources: { store: Store; sockets: () => { customer: number; agent: number } }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "desk_process_" });
  const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

  new Gauge({
    name: "desk_connected_sockets",
    help: "Sockets connected to this instance, by role",
    labelNames: ["role"],
    registers: [registry],
    collect() {
      const counts = sources.sockets();
      this.set({ role: "customer" }, counts.customer);
      this.set({ role: "agent" }, counts.agent);
    },
  });
  // Both queue gauges are collected together by one scrape: they share one listing.
  let listing: Promise<Awaited<ReturnType<Store["listQueue"]>> | null> | null = null;
  const queue = () =>
    (listing ??= sources.store
      .listQueue()
      .catch(() => null)
      .finally(() => setImmediate(() => (listing = null))));
  new Gauge({
    name: "desk_queue_length",
    help: "Conversations waiting in the queue (whole desk)",
    registers: [registry],
    async collect() {
      const q = await queue();
      if (q) this.set(q.length);
    },
  });
  new Gauge({
    name: "desk_queue_oldest_wait_seconds",
    help: "How long the oldest queued conversation has waited (whole desk)",
    registers: [registry],
    async collect() {
      const q = await queue();
      if (q) this.set(q[0] ? (Date.now() - Date.parse(q[0].createdAt)) / 1000 : 0);
    },
  });

  const metrics: Omit<Metrics, "observe"> = {
    registry,
    ack: new Histogram({
      name: "desk_ack_duration_seconds",
      help: "Time from receiving a client event to its acknowledgement",
      labelNames: ["event", "outcome"],
      buckets,
      registers: [registry],
    }),
    claim: new Histogram({
      name: "desk_claim_duration_seconds",
      help: "Time to settle a conversation:claim (won or already_claimed)",
      labelNames: ["outcome"],
      buckets,
      registers: [registry],
    }),
    messagesStored: new Counter({ name: "desk_messages_stored_total", help: "Messages stored by this instance", registers: [registry] }),
    storeErrors: new Counter({ name: "desk_store_errors_total", help: "Requests that failed because the store (Redis) was unreachable", registers: [registry] }),
  };
  return {
    ...metrics,
    observe(event, seconds, outcome) {
      metrics.ack.observe({ event, outcome }, seconds);
      if (event === "conversation:claim") metrics.claim.observe({ outcome }, seconds);
      if (outcome === "unavailable") metrics.storeErrors.inc();
    },
  };
}
