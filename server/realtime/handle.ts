/**
 * The one wrapper every client→server event goes through: validate the payload with its
 * schema, call the domain, answer the ack (tolerating a missing one) and map errors.
 */
import type { z } from "zod";
import { DeskError, type WireError } from "../../shared/errors.js";
import type { Ack } from "../../shared/protocol.js";
import { isStoreUnavailable } from "../store/store.js";
import type { HandlerContext } from "./types.js";

type Handler = (...args: unknown[]) => void;

export function toWireError(err: unknown, ctx: Pick<HandlerContext, "log">, event: string): WireError {
  if (err instanceof DeskError) return err.toWire();
  if (isStoreUnavailable(err)) return new DeskError("unavailable").toWire();
  ctx.log.error({ err, event }, "socket handler failed");
  return new DeskError("internal").toWire();
}

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
 * `rate_limited` refusals in a row, per socket over all its events: a socket that keeps
 * flooding is cut off after `limiter.disconnectAfter` of them (`DESK_RATE_LIMITS`).
 */
const refusals = new WeakMap<object, number>();

export function handle<S extends z.ZodType, R extends object>(
  ctx: HandlerContext,
  event: string,
  schema: S,
  fn: (input: z.infer<S>) => Promise<R>,
  options: { only?: "agent" | "customer" } = {},
): Handler {
  return (...args) => {
    // the ack is the last argument, whatever comes before it (`emit("queue:list", cb)` has no payload)
    const ack = typeof args.at(-1) === "function" ? args.pop() : undefined;
    const payload = args[0];
    const reply = (res: Ack<R>) => {
      if (typeof ack === "function") ack(res);
    };
    if (options.only && ctx.actor.role !== options.only) {
      reply({ ok: false, error: { code: "forbidden", message: `Only ${options.only}s can use ${event}.` } });
      return;
    }
    const parsed = schema.safeParse(payload ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
      reply({ ok: false, error: { code: "invalid_payload", message: `${issue?.message ?? "invalid"}${where}` } });
      return;
    }
    const started = performance.now();
    const took = () => (performance.now() - started) / 1000;
    // The ack is part of the work in flight: a shutdown that waits for `idle()` must not
    // close the transport between storing a message and acknowledging it.
    void ctx.inflight.run(async () => {
      let result: R;
      try {
        result = await fn(parsed.data);
      } catch (err: unknown) {
        const error = toWireError(err, ctx, event);
        ctx.metrics.observe(event, took(), error.code);
        reply({ ok: false, error });
        if (error.code === "rate_limited") floodCheck(ctx, event);
        return;
      }
      refusals.delete(ctx.socket);
      ctx.metrics.observe(event, took(), "ok");
      reply({ ok: true, ...result });
    });
  };
}

function floodCheck(ctx: HandlerContext, event: string): void {
  const inARow = (refusals.get(ctx.socket) ?? 0) + 1;
  refusals.set(ctx.socket, inARow);
  if (inARow < ctx.limiter.disconnectAfter) return;
  ctx.log.warn({ socket: ctx.socket.id, event, refusals: inARow }, "disconnecting a flooding socket");
  ctx.socket.disconnect(true);
}

/** Picks the schema by the sender's role (customers and agents send different shapes). */
export const byRole = <C extends z.ZodType, A extends z.ZodType>(ctx: HandlerContext, customer: C, agent: A) =>
  (ctx.actor.role === "customer" ? customer : agent) as C | A;
