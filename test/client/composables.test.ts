import { effectScope, nextTick, shallowRef } from "vue";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useConversation } from "../../client/src/composables/useConversation.js";
import { useInbox } from "../../client/src/composables/useInbox.js";
import { useQueue } from "../../client/src/composables/useQueue.js";
import { useTyping } from "../../client/src/composables/useTyping.js";
import type { Conversation } from "../../shared/protocol.js";
import { conversation, FakeLink, message } from "./fakeLink.js";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const queued = (id: string, createdAt: string): Conversation => ({
  ...conversation(1), id, status: "queued", assignee: null, createdAt, updatedAt: createdAt,
});

describe("useConversation", () => {
  it("should drop a superseded conversation's feed when another is opened", async () => {
    const link = new FakeLink();
    const id = shallowRef<string | null>("c1");
    const scope = effectScope();
    const chat = scope.run(() => useConversation(link, { conversationId: id, self: { role: "agent", id: "a1", name: "Ada" } }))!;
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(1), messages: [message(1)] });
    await settle();
    expect(chat.lines.value.map((l) => l.seq)).toEqual([1]);
    const listening = link.listenerCount();

    id.value = "c2";
    await nextTick();
    expect(link.listenerCount()).toBe(listening);
    expect(chat.lines.value).toEqual([]);
    const [history] = link.take("history");
    expect(history?.payload).toEqual({ conversationId: "c2", afterSeq: 0 });

    // A late event for the old conversation changes nothing on screen.
    link.push("message:new", message(2));
    expect(chat.lines.value).toEqual([]);
    scope.stop();
    expect(link.listenerCount()).toBe(0);
  });

  it("should apply the conversation a claim returns", async () => {
    const link = new FakeLink();
    const scope = effectScope();
    const chat = scope.run(() =>
      useConversation(link, { conversationId: shallowRef("c1"), self: { role: "agent", id: "a1", name: "Ada" } }),
    )!;
    link.take("history")[0]!.answer({ ok: true, conversation: queued("c1", "2025-01-01T12:00:00.000Z"), messages: [message(1)] });
    await settle();
    const pending = chat.claim();
    const [claim] = link.take("conversation:claim");
    expect(claim?.payload).toEqual({ conversationId: "c1" });
    claim!.answer({ ok: true, conversation: { ...conversation(1), updatedAt: "2025-01-01T12:05:00.000Z" } });
    await expect(pending).resolves.toBeNull();
    expect(chat.conversation.value?.status).toBe("assigned");
    scope.stop();
  });
});

describe("useQueue", () => {
  it("should keep the queue oldest first from conversation:updated alone", async () => {
    const link = new FakeLink();
    const scope = effectScope();
    const { queue, fresh } = scope.run(() => useQueue(link))!;
    const ago = (s: number) => new Date(Date.now() - s * 1000).toISOString();
    link.take("queue:list")[0]!.answer({ ok: true, conversations: [queued("b", ago(20))] });
    await settle();

    link.push("conversation:updated", queued("a", ago(30)));
    link.push("conversation:updated", queued("c", ago(10)));
    expect(queue.value.map((c) => c.id)).toEqual(["a", "b", "c"]);
    expect([...fresh.value].sort()).toEqual(["a", "c"]);

    link.push("conversation:updated", { ...queued("a", ago(30)), status: "assigned" });
    expect(queue.value.map((c) => c.id)).toEqual(["b", "c"]);
    expect([...fresh.value]).toEqual(["c"]);

    // a conversation released back after a long chat is back in the queue, but not "new"
    link.push("conversation:updated", queued("old", ago(3600)));
    expect(queue.value.map((c) => c.id)).toEqual(["old", "b", "c"]);
    expect([...fresh.value]).toEqual(["c"]);
    scope.stop();
    expect(link.listenerCount()).toBe(0);
  });
});

describe("useTyping", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("should clear a remote typing indicator not refreshed for 6 seconds", async () => {
    vi.useFakeTimers();
    const link = new FakeLink();
    const scope = effectScope();
    const typing = scope.run(() => useTyping(link, { remoteRole: "agent" }))!;
    const event = { conversationId: "c1", author: { role: "agent" as const, name: "Ada" }, isTyping: true };
    link.push("typing", event);
    expect(typing.remote.value).toBe("Ada");
    vi.advanceTimersByTime(5_000);
    link.push("typing", event); // refreshed: the 6 s start again
    vi.advanceTimersByTime(5_999);
    expect(typing.remote.value).toBe("Ada");
    vi.advanceTimersByTime(1);
    expect(typing.remote.value).toBeNull();
    scope.stop();
  });

  it("should announce typing at most once per throttle window, then that it stopped", () => {
    vi.useFakeTimers();
    const link = new FakeLink();
    const scope = effectScope();
    const typing = scope.run(() => useTyping(link, { remoteRole: "agent", throttleMs: 2_000, idleMs: 3_000 }))!;
    for (let i = 0; i < 10; i++) {
      typing.input();
      vi.advanceTimersByTime(100);
    }
    expect(link.take("typing").map((r) => r.payload)).toEqual([{ isTyping: true }]);
    vi.advanceTimersByTime(3_000);
    expect(link.take("typing").map((r) => r.payload)).toEqual([{ isTyping: false }]);
    scope.stop();
    expect(link.listenerCount()).toBe(0);
  });
});

describe("useInbox", () => {
  const held = (id: string, assigneeId: string): Conversation => ({
    ...conversation(1), id, status: "assigned", assignee: { id: assigneeId, name: assigneeId },
  });

  it("should show an admin the conversations colleagues hold, and follow them live", async () => {
    const link = new FakeLink();
    const scope = effectScope();
    const { mine } = scope.run(() => useInbox(link, { agentId: "me", openId: shallowRef(null), scope: "others" }))!;
    const [request] = link.take("conversation:list");
    expect(request!.payload).toEqual({ mine: false, status: "assigned" });
    request!.answer({ ok: true, conversations: [held("a", "sam"), held("b", "me")] });
    await settle();
    expect(mine.value.map((c) => c.id)).toEqual(["a"]);
    link.push("conversation:updated", held("c", "omar"));
    link.push("conversation:updated", { ...held("a", "sam"), status: "queued", assignee: null });
    expect(mine.value.map((c) => c.id)).toEqual(["c"]);
    scope.stop();
    expect(link.listenerCount()).toBe(0);
  });
});
