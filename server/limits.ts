/**
 * Rate limits (SPEC section 6), in memory on one instance or in Redis so that they hold
 * across instances. `DESK_RATE_LIMITS=off` turns every one off.
 */
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import { DeskError } from "../shared/errors.js";
import { createCaps, type Caps } from "./caps.js";
import type { RateLimits } from "./config.js";

/** `conversationMessage`/`conversationTyping` are keyed by `<conversation id>:<role>`: see `conversationKey`. */
export type LimitKind = "message" | "typing" | "conversationMessage" | "conversationTyping" | "start" | "loginAddress" | "loginAccount" | "cobrowse" | "events";

export interface Limiter {
  /** Takes one point for `key`; throws `rate_limited` when none is left. */
  consume(kind: LimitKind, key: string): Promise<void>;
  /** Throws `rate_limited` when `key` has no point left, without taking one. */
  check(kind: LimitKind, key: string): Promise<void>;
  reset(kind: LimitKind, key: string): Promise<void>;
  /** Gives one point back (a login that turned out to be right). */
  refund(kind: LimitKind, key: string): Promise<void>;
  /** Sockets per person, open conversations per address (per instance). */
  caps: Caps;
  /** A socket refused this many times in a row is disconnected (Infinity when limits are off). */
  disconnectAfter: number;
}

/**
 * Per-conversation limits are split by side, so that the sockets of one customer (or of
 * agents) cannot multiply the per-socket rate, and neither side can starve the other.
 */
export const conversationKey = (conversationId: string, role: "customer" | "agent") => `${conversationId}:${role}`;

function plans(l: RateLimits): Record<LimitKind, { points: number; duration: number }> {
  return {
    // a bucket of `burst` refilled over burst/rate seconds: `rate` per second, bursts of `burst`
    message: { points: l.messageBurst, duration: Math.max(1, Math.round(l.messageBurst / l.messagePerSecond)) },
    typing: { points: l.typingPerSecond, duration: 1 },
    conversationMessage: {
      points: l.conversationMessageBurst,
      duration: Math.max(1, Math.round(l.conversationMessageBurst / l.conversationMessagePerSecond)),
    },
    conversationTyping: { points: l.conversationTypingPerSecond, duration: 1 },
    start: { points: l.startsPerMinute, duration: 60 },
    loginAddress: { points: l.failedLogins, duration: 15 * 60 },
    loginAccount: { points: l.failedLogins, duration: 15 * 60 },
    // co-browse batches per socket: 50 a second, bursts of 100 (a large snapshot is split up)
    cobrowse: { points: 100, duration: 2 },
    // any event at all, per socket: nothing (history, lists, unknown names) floods unchecked
    events: { points: l.eventsPerSecond * 2, duration: 2 },
  };
}

/** Limits keyed by socket id, kept in the instance that holds the socket. */
const PER_SOCKET = new Set<LimitKind>(["message", "typing", "cobrowse", "events"]);

/** `redis`: a connected node-redis client, for limits shared by every instance. */
export function createLimiter(limits: RateLimits, redis?: unknown, prefix = "desk:"): Limiter {
  if (!limits.enabled) {
    const none = async () => {};
    return { consume: none, check: none, reset: none, refund: none, caps: createCaps(limits), disconnectAfter: Infinity };
  }
  const limiters = Object.fromEntries(
    Object.entries(plans(limits)).map(([kind, plan]) => {
      const opts = { ...plan, keyPrefix: `${prefix}rl:${kind}` };
      // A socket lives on one instance: its own limits need no round trip to Redis.
      const shared = redis && !PER_SOCKET.has(kind as LimitKind);
      const limiter: RateLimiterAbstract = shared
        ? new RateLimiterRedis({ ...opts, storeClient: redis, useRedisPackage: true, inMemoryBlockOnConsumed: plan.points * 3 })
        : new RateLimiterMemory(opts);
      return [kind, limiter];
    }),
  ) as Record<LimitKind, RateLimiterAbstract>;

  return {
    async consume(kind, key) {
      try {
        await limiters[kind].consume(key);
      } catch (err) {
        if (err instanceof RateLimiterRes) throw new DeskError("rate_limited");
        throw err;
      }
    },
    async check(kind, key) {
      const res = await limiters[kind].get(key);
      if (res && res.remainingPoints <= 0) throw new DeskError("rate_limited");
    },
    async reset(kind, key) {
      await limiters[kind].delete(key);
    },
    async refund(kind, key) {
      await limiters[kind].reward(key, 1);
    },
    caps: createCaps(limits),
    disconnectAfter: limits.disconnectAfter,
  };
}
