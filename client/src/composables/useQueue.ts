import { onScopeDispose, shallowRef, type Ref } from "vue";
import type { Conversation, QueuePosition } from "../../../shared/protocol.js";
import type { DeskLink } from "../delivery/link.js";

export interface UseQueue {
  /** Waiting conversations, oldest first. */
  queue: Readonly<Ref<readonly Conversation[]>>;
  /** Ids that joined the queue while we watched and that nobody has opened here yet. */
  fresh: Readonly<Ref<ReadonlySet<string>>>;
  markSeen(conversationId: string): void;
}

const oldestFirst = (a: Conversation, b: Conversation) => a.createdAt.localeCompare(b.createdAt);

/**
 * The agent's live queue: listed on every (re)connect, then kept by `conversation:updated`
 * alone — status `queued` means in the queue, anything else takes it out.
 */
const NEW_FOR_MS = 60_000;

export function useQueue(link: DeskLink): UseQueue {
  const queue = shallowRef<readonly Conversation[]>([]);
  const fresh = shallowRef<ReadonlySet<string>>(new Set());
  let listed = false;

  const setFresh = (edit: (s: Set<string>) => void) => {
    const next = new Set(fresh.value);
    edit(next);
    fresh.value = next;
  };

  const list = async () => {
    const res = await link.request("queue:list", {}).catch(() => null);
    if (!res?.ok) return;
    listed = true;
    queue.value = [...res.conversations].sort(oldestFirst);
    const ids = new Set(res.conversations.map((c) => c.id));
    setFresh((s) => s.forEach((id) => ids.has(id) || s.delete(id)));
  };

  const offs = [
    link.on("conversation:updated", (c) => {
      const rest = queue.value.filter((q) => q.id !== c.id);
      if (c.status === "queued") {
        // "New" is for a customer who just arrived, not for a conversation released back
        const justStarted = Date.now() - Date.parse(c.createdAt) < NEW_FOR_MS;
        if (listed && rest.length === queue.value.length && justStarted) setFresh((s) => s.add(c.id));
        queue.value = [...rest, c].sort(oldestFirst);
      } else {
        queue.value = rest;
        if (fresh.value.has(c.id)) setFresh((s) => s.delete(c.id));
      }
    }),
    link.onStatus((s) => s === "connected" && void list()),
  ];
  if (link.status === "connected") void list();
  onScopeDispose(() => offs.forEach((off) => off()));

  return {
    queue,
    fresh,
    markSeen: (id) => fresh.value.has(id) && setFresh((s) => s.delete(id)),
  };
}

/** The customer's place in line, while queued. */
export function useQueuePosition(link: DeskLink): Readonly<Ref<QueuePosition | null>> {
  const position = shallowRef<QueuePosition | null>(null);
  const off = link.on("queue:position", (p) => (position.value = p));
  onScopeDispose(off);
  return position;
}
