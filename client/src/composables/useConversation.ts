import { onScopeDispose, shallowRef, watch, type Ref } from "vue";
import type { Conversation } from "../../../shared/protocol.js";
import type { WireError } from "../../../shared/errors.js";
import { ConversationFeed, type ChatLine, type FeedOptions } from "../delivery/feed.js";
import type { DeskLink } from "../delivery/link.js";

export interface UseConversationOptions {
  /** The conversation an agent has open; omit for a customer (the socket is bound to one). */
  conversationId?: Readonly<Ref<string | null>>;
  self: FeedOptions["self"];
}

export interface UseConversation {
  conversation: Readonly<Ref<Conversation | null>>;
  lines: Readonly<Ref<readonly ChatLine[]>>;
  loaded: Readonly<Ref<boolean>>;
  error: Readonly<Ref<WireError | null>>;
  send(body: string): void;
  retry(clientId: string): void;
  /** Each resolves to the desk's refusal, or null on success. */
  claim(): Promise<WireError | null>;
  release(): Promise<WireError | null>;
  close(): Promise<WireError | null>;
}

/** One conversation's live state: history, new messages, our outgoing ones, its status. */
export function useConversation(link: DeskLink, options: UseConversationOptions): UseConversation {
  const conversation = shallowRef<Conversation | null>(null);
  const lines = shallowRef<readonly ChatLine[]>([]);
  const loaded = shallowRef(false);
  const error = shallowRef<WireError | null>(null);
  let feed: ConversationFeed | null = null;

  const open = (conversationId: string | null) => {
    feed?.stop();
    feed = null;
    conversation.value = null;
    lines.value = [];
    loaded.value = false;
    error.value = null;
    if (options.conversationId && conversationId === null) return;
    feed = new ConversationFeed({
      link,
      conversationId,
      self: options.self,
      onChange: (s) => {
        conversation.value = s.conversation;
        lines.value = s.lines;
        loaded.value = s.loaded;
        error.value = s.error;
      },
    });
    feed.start();
  };

  if (options.conversationId) watch(options.conversationId, open, { immediate: true });
  else open(null);
  onScopeDispose(() => feed?.stop());

  const act = async (event: "conversation:claim" | "conversation:release" | "conversation:close") => {
    const current = feed;
    const id = options.conversationId?.value;
    try {
      const res = await link.request(event, id ? { conversationId: id } : {});
      if (!res.ok) return res.error;
      if (feed === current) current?.update(res.conversation);
      return null;
    } catch {
      return { code: "unavailable", message: "The desk did not answer. Try again." } satisfies WireError;
    }
  };

  return {
    conversation,
    lines,
    loaded,
    error,
    send: (body) => void feed?.send(body),
    retry: (clientId) => feed?.retry(clientId),
    claim: () => act("conversation:claim"),
    release: () => act("conversation:release"),
    close: () => act("conversation:close"),
  };
}
