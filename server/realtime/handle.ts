/**
 * The one wrapper every client→server event goes through: validate the payload with its
 * schema, call the domain, answer the ack (tolerating a missing one) and map errors.
 */
import type { z } from "zod";
import { DeskError } from "../../shared/errors.js";
import type { Ack, AgentActor, ClientEvent, CustomerActor } from "../../shared/protocol.js";
import { invalidPayload, toWireError } from "../wire-errors.js";
import type { DeskSocket, HandlerContext } from "./types.js";

/** Counts handlers in progress, so a shutdown can let them finish their writes. */
export function createInflight() {
  let count = 0;
  const waiters: (() => void)[] = [];
  return {
    async run<T>(p: () => Promise<T>): Promise<T> {
      count++;
      try {
        return await p();
      } finally {
        if (--count === 0) for (const w of waiters.splice(0)) w();
      }
    },
    idle(): Promise<void> {
      return count === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r));
    },
  };
}
export type Inflight = ReturnType<typeof createInflight>;

/**
 * `rate_limited` refusals per socket over all its events: a socket that keeps flooding is
 * cut off after `limiter.disconnectAfter` of them. The count runs until the socket has
 * been quiet (no refusal) for a while, so a flood that a rate window lets trickle through
 * (a few successes every window) is cut off all the same.
 */
const refusals = new WeakMap<object, { count: number; lastAt: number }>();
const FLOOD_QUIET_MS = 10_000;

type Schema = z.ZodType;
type RoleSchemas = { customer: Schema; agent: Schema };

/** Events with a rate limit of their own; every other event draws on the per-socket `events` budget. */
const OWN_LIMITS = new Set<ClientEvent>(["message:send", "typing", "cobrowse:events"]);

/** One client→server event: its schema (or one per role), who may send it, what it does. */
export interface EventHandler {
  schema: Schema | RoleSchemas;
  only?: "agent" | "customer";
  run(ctx: HandlerContext, input: unknown): Promise<object>;
}

/** Every event a capability answers, by name. */
export type HandlerTable = Partial<Record<ClientEvent, EventHandler>>;

/** An event whose payload has one schema. */
export function on<S extends Schema, R extends object>(
  schema: S,
  run: (ctx: HandlerContext, input: z.infer<S>) => Promise<R>,
  options: { only?: "agent" | "customer" } = {},
): EventHandler {
  return { schema, run: run as EventHandler["run"], ...options };
}

/** An event whose payload differs for customers and agents. */
export function onRole<C extends Schema, A extends Schema, R extends object>(
  schemas: { customer: C; agent: A },
  run: (ctx: HandlerContext, input: z.infer<C> | z.infer<A>) => Promise<R>,
): EventHandler {
  return { schema: schemas, run: run as EventHandler["run"] };
}

/** What every socket shares: the server-wide parts of a handler context. */
export type SharedContext = Omit<HandlerContext, "socket" | "actor">;

/**
 * One listener for every event of every socket (`socket.onAny`), shared by all sockets:
 * nothing is allocated per connection. It validates the payload, runs the handler,
 * answers the ack (tolerating a missing one) and maps errors.
 */
export function createDispatcher(table: HandlerTable, shared: SharedContext) {
  return function dispatch(this: DeskSocket, event: string, ...args: unknown[]): void {
    // the ack is the last argument, whatever comes before it (`emit("queue:list", cb)` has no payload)
    const ack = typeof args.at(-1) === "function" ? (args.pop() as (res: Ack) => void) : undefined;
    const reply = (res: Ack<object>) => ack?.(res);
    const handler = Object.hasOwn(table, event) ? table[event as ClientEvent] : undefined;
    if (!handler) {
      reply({ ok: false, error: { code: "invalid_payload", message: `Unknown event "${String(event).slice(0, 64)}".` } });
      return;
    }
    const ctx: HandlerContext = { ...shared, socket: this, actor: this.data.actor };
    if (handler.only && ctx.actor.role !== handler.only) {
      reply({ ok: false, error: { code: "forbidden", message: `Only ${handler.only}s can use ${event}.` } });
      return;
    }
    const schema = "safeParse" in handler.schema ? handler.schema : handler.schema[ctx.actor.role];
    const parsed = schema.safeParse(args[0] ?? {});
    if (!parsed.success) {
      reply({ ok: false, error: invalidPayload(parsed.error).toWire() });
      return;
    }
    const started = performance.now();
    const took = () => (performance.now() - started) / 1000;
    // The ack is part of the work in flight: a shutdown that waits for `idle()` must not
    // close the transport between storing a message and acknowledging it.
    void ctx.inflight.run(async () => {
      let result: object;
      try {
        if (!OWN_LIMITS.has(event as ClientEvent)) await ctx.limiter.consume("events", this.id);
        result = await handler.run(ctx, parsed.data);
      } catch (err: unknown) {
        const error = toWireError(err, ctx.log, { event, socket: this.id });
        ctx.metrics.observe(event, took(), error.code);
        reply({ ok: false, error });
        if (error.code === "rate_limited") floodCheck(ctx, event);
        return;
      }
      ctx.metrics.observe(event, took(), "ok");
      reply({ ok: true, ...result });
    });
  };
}

function floodCheck(ctx: HandlerContext, event: string): void {
  const now = Date.now();
  const previous = refusals.get(ctx.socket);
  const inARow = previous && now - previous.lastAt < FLOOD_QUIET_MS ? previous.count + 1 : 1;
  refusals.set(ctx.socket, { count: inARow, lastAt: now });
  if (inARow < ctx.limiter.disconnectAfter) return;
  ctx.log.warn({ socket: ctx.socket.id, event, refusals: inARow }, "disconnecting a flooding socket");
  ctx.socket.disconnect(true);
}

/** The actor as an agent, or `forbidden`. */
export function asAgent(ctx: HandlerContext): AgentActor {
  if (ctx.actor.role !== "agent") throw new DeskError("forbidden", "Only agents can do this.");
  return ctx.actor;
}

/** The actor as a customer, or `forbidden`. */
export function asCustomer(ctx: HandlerContext): CustomerActor {
  if (ctx.actor.role !== "customer") throw new DeskError("forbidden", "Only the customer can do this.");
  return ctx.actor;
}

export const agentsOnly = { only: "agent" } as const;
export const customersOnly = { only: "customer" } as const;
