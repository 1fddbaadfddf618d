import { computed, onScopeDispose, shallowRef, watch, type Ref } from "vue";
import type { Conversation } from "../../../shared/protocol.js";
import type { DeskLink } from "../delivery/link.js";

export interface UseInboxOptions {
  agentId: string;
  /** The conversation on screen: its messages are read as they come. */
  openId: Readonly<Ref<string | null>>;
  /** `others`: the conversations colleagues hold (an admin's view, to take over or release). */
  scope?: "mine" | "others";
}

export interface UseInbox {
  /** The agent's assigned conversations, most recently active first. */
  mine: Readonly<Ref<readonly Conversation[]>>;
  unread: Readonly<Ref<Readonly<Record<string, number>>>>;
  totalUnread: Readonly<Ref<number>>;
}

const recentFirst = (a: Conversation, b: Conversation) => b.updatedAt.localeCompare(a.updatedAt);

/** "My conversations": listed on every (re)connect, kept live, with unread counts. */
export function useInbox(link: DeskLink, { agentId, openId, scope = "mine" }: UseInboxOptions): UseInbox {
  const mine = shallowRef<readonly Conversation[]>([]);
  const unread = shallowRef<Readonly<Record<string, number>>>({});

  const isMine = (c: Conversation) =>
    c.status === "assigned" && (scope === "mine" ? c.assignee?.id === agentId : !!c.assignee && c.assignee.id !== agentId);
  const upsert = (c: Conversation) => {
    const rest = mine.value.filter((m) => m.id !== c.id);
    mine.value = isMine(c) ? [...rest, c].sort(recentFirst) : rest;
  };
  const setUnread = (id: string, n: number) => {
    if ((unread.value[id] ?? 0) !== n) unread.value = { ...unread.value, [id]: n };
  };

  const list = async () => {
    const res = await link.request("conversation:list", { mine: scope === "mine", status: "assigned" }).catch(() => null);
    if (res?.ok) mine.value = res.conversations.filter(isMine).sort(recentFirst);
  };

  const offs = [
    link.on("conversation:updated", upsert),
    link.on("message:new", (m) => {
      const held = mine.value.find((c) => c.id === m.conversationId);
      if (held && m.seq > held.lastSeq) {
        upsert({ ...held, lastSeq: m.seq, preview: m.body, updatedAt: m.createdAt });
      }
      if (m.author.role === "customer" && m.conversationId !== openId.value) {
        setUnread(m.conversationId, (unread.value[m.conversationId] ?? 0) + 1);
      }
    }),
    link.onStatus((s) => s === "connected" && void list()),
  ];
  if (link.status === "connected") void list();
  watch(openId, (id) => id && setUnread(id, 0), { immediate: true });
  onScopeDispose(() => offs.forEach((off) => off()));

  const totalUnread = computed(() =>
    mine.value.reduce((sum, c) => sum + (c.id === openId.value ? 0 : (unread.value[c.id] ?? 0)), 0),
  );
  return { mine, unread, totalUnread };
}
