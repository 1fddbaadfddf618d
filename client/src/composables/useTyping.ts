import { onScopeDispose, shallowRef, watch, type Ref } from "vue";
import type { DeskLink } from "../delivery/link.js";

export interface UseTypingOptions {
  /** The agent's open conversation; omit for a customer. */
  conversationId?: Readonly<Ref<string | null>>;
  /** Whether we may announce our own typing (e.g. only the assignee). */
  canSend?: Readonly<Ref<boolean>>;
  /** Role of the other side, whose typing we show. */
  remoteRole: "customer" | "agent";
  /** Minimum pause between two "typing" announcements. */
  throttleMs?: number;
  /** Silence after which we announce we stopped. */
  idleMs?: number;
  /** A remote indicator not refreshed for this long is cleared (SPEC: 6 s). */
  staleMs?: number;
}

export interface UseTyping {
  /** Name of the other side while they type, else null. */
  remote: Readonly<Ref<string | null>>;
  /** Call on every keystroke in the composer. */
  input(): void;
  /** Call when a message is sent or the composer is left. */
  stop(): void;
}

/** Typing indicators both ways: ours throttled, theirs cleared when stale. */
export function useTyping(link: DeskLink, options: UseTypingOptions): UseTyping {
  const { throttleMs = 2_000, idleMs = 3_000, staleMs = 6_000 } = options;
  const remote = shallowRef<string | null>(null);
  let staleTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSent = 0;
  let typing = false;

  const target = () => options.conversationId?.value ?? null;
  const matches = (conversationId: string) => {
    const id = target();
    return id === null || id === conversationId;
  };
  const announce = (isTyping: boolean, conversationId = target()) => {
    const payload = conversationId ? { conversationId, isTyping } : { isTyping };
    void link.request("typing", payload).catch(() => null);
  };
  const clearRemote = () => {
    clearTimeout(staleTimer);
    remote.value = null;
  };

  const stop = (conversationId = target()) => {
    clearTimeout(idleTimer);
    if (!typing) return;
    typing = false;
    lastSent = 0;
    announce(false, conversationId);
  };

  const offs = [
    link.on("typing", (e) => {
      if (!matches(e.conversationId) || e.author.role !== options.remoteRole) return;
      clearTimeout(staleTimer);
      if (!e.isTyping) return clearRemote();
      remote.value = e.author.name;
      staleTimer = setTimeout(clearRemote, staleMs);
    }),
    // Their message has arrived: they are no longer typing it.
    link.on("message:new", (m) => {
      if (matches(m.conversationId) && m.author.role === options.remoteRole) clearRemote();
    }),
  ];
  if (options.conversationId) {
    watch(options.conversationId, (_id, previous) => {
      stop(previous);
      clearRemote();
    });
  }
  onScopeDispose(() => {
    stop();
    clearRemote();
    offs.forEach((off) => off());
  });

  return {
    remote,
    input() {
      if (options.canSend && !options.canSend.value) return;
      const now = Date.now();
      if (!typing || now - lastSent >= throttleMs) {
        typing = true;
        lastSent = now;
        announce(true);
      }
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop(), idleMs);
    },
    stop: () => stop(),
  };
}
