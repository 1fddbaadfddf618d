/**
 * Concurrency caps (as opposed to rates): open sockets per person and open conversations
 * per address. Both are counted by this instance only: behind N instances a person may
 * hold up to N times the cap (docs/security.md). Counting in-process keeps them exact
 * (nothing leaks when an instance dies) and free of store round trips.
 */
import { DeskError } from "../shared/errors.js";
import type { RateLimits } from "./config.js";

export interface Caps {
  /**
   * Takes one socket slot of a person (`customer:<conversation id>` or `agent:<id>`); null
   * when it already holds its cap. The returned release is idempotent.
   */
  takeSocket(role: "customer" | "agent", person: string): (() => void) | null;
  /**
   * Runs `start` unless `address` already has the cap of conversations, started through
   * this instance, that `isOpen` still finds queued or assigned; then `rate_limited`.
   */
  startFrom<T>(address: string, isOpen: (conversationId: string) => Promise<boolean>, start: () => Promise<T>, idOf: (t: T) => string): Promise<T>;
}

/** Addresses remembered at most (least recently starting ones are forgotten first). */
const MAX_ADDRESSES = 10_000;

export function createCaps(limits: RateLimits): Caps {
  if (!limits.enabled) {
    return { takeSocket: () => () => {}, startFrom: (_a, _o, start) => start() };
  }
  const sockets = new Map<string, number>();
  const byAddress = new Map<string, { ids: Set<string>; pending: number }>();

  return {
    takeSocket(role, person) {
      const held = sockets.get(person) ?? 0;
      if (held >= (role === "customer" ? limits.customerSockets : limits.agentSockets)) return null;
      sockets.set(person, held + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (sockets.get(person) ?? 1) - 1;
        if (left > 0) sockets.set(person, left);
        else sockets.delete(person);
      };
    },

    async startFrom(address, isOpen, start, idOf) {
      let entry = byAddress.get(address) ?? { ids: new Set<string>(), pending: 0 };
      byAddress.delete(address);
      byAddress.set(address, entry); // most recent last
      for (const id of [...entry.ids]) if (!(await isOpen(id))) entry.ids.delete(id);
      entry = byAddress.get(address) ?? entry;
      if (entry.ids.size + entry.pending >= limits.openConversationsPerAddress) {
        throw new DeskError("rate_limited", "Too many open conversations from this address; finish one first.");
      }
      entry.pending++;
      try {
        const result = await start();
        entry.ids.add(idOf(result));
        return result;
      } finally {
        entry.pending--;
        byAddress.set(address, entry);
        forgetOldest(byAddress);
      }
    },
  };
}

function forgetOldest(byAddress: Map<string, { ids: Set<string>; pending: number }>): void {
  for (const [address, entry] of byAddress) {
    if (byAddress.size <= MAX_ADDRESSES) return;
    if (entry.pending === 0) byAddress.delete(address);
  }
}
