import { effectScope } from "vue";
import { describe, expect, it } from "vitest";
import { useCobrowse } from "../../client/src/composables/useCobrowse.js";
import { useCobrowseCustomer } from "../../client/src/composables/useCobrowseCustomer.js";
import type { HostChannel, HostMessageOf } from "../../client/src/hostChannel.js";
import type { FrameMessage, HostMessage } from "../../client/widget/protocol.js";
import { FakeLink } from "./fakeLink.js";

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A host page double: records what the iframe posts, delivers what a test sends. */
function fakeHost() {
  const posted: FrameMessage[] = [];
  const listeners = new Map<string, Set<(m: never) => void>>();
  const channel: HostChannel = {
    post: (m) => void posted.push(m),
    on(type, listener) {
      const set = listeners.get(type) ?? new Set();
      set.add(listener as (m: never) => void);
      listeners.set(type, set);
      return () => set.delete(listener as (m: never) => void);
    },
    close: () => listeners.clear(),
  };
  const send = <T extends HostMessage["type"]>(m: HostMessageOf<T>) => {
    for (const l of listeners.get(m.type) ?? []) (l as (x: HostMessage) => void)(m);
  };
  const count = () => [...listeners.values()].reduce((n, s) => n + s.size, 0);
  return { channel, posted, send, count };
}

describe("useCobrowseCustomer in the widget", () => {
  it("should ask the host to record only after the desk accepted the allow", async () => {
    const link = new FakeLink();
    const host = fakeHost();
    const scope = effectScope();
    const c = scope.run(() => useCobrowseCustomer({ socket: link, embedded: host.channel }))!;
    link.push("cobrowse:state", { conversationId: "c1", status: "requested" });
    expect(c.state.value?.status).toBe("requested");
    expect(host.posted).toEqual([{ type: "livedesk:open" }]);

    const allowed = c.allow();
    const [answer] = link.take("cobrowse:answer");
    expect(answer?.payload).toEqual({ allow: true });
    expect(host.posted.some((m) => m.type === "livedesk:cobrowse:start")).toBe(false);
    link.push("cobrowse:state", { conversationId: "c1", status: "active" });
    answer!.answer({ ok: true });
    await allowed;
    expect(c.streaming.value).toBe(true);
    expect(host.posted.at(-1)).toEqual({ type: "livedesk:cobrowse:start", maxBatchBytes: 60 * 1024 });

    host.send({ type: "livedesk:cobrowse:events", events: [{ type: 2 }] });
    const [events] = link.take("cobrowse:events");
    expect(events?.payload).toEqual({ events: [{ type: 2 }] });

    link.push("cobrowse:highlight", { nodeId: 7 });
    link.push("cobrowse:resync", {});
    expect(host.posted.slice(-2)).toEqual([{ type: "livedesk:cobrowse:highlight", nodeId: 7 }, { type: "livedesk:cobrowse:resync" }]);

    // A refused batch means the session is over: recording stops.
    events!.answer({ ok: false, error: { code: "forbidden", message: "no" } });
    await settle();
    expect(c.streaming.value).toBe(false);
    expect(host.posted.at(-1)).toEqual({ type: "livedesk:cobrowse:stop" });
    scope.stop();
    expect(link.listenerCount()).toBe(0);
    expect(host.count()).toBe(0);
  });

  it("should not stream after a refused allow, and should stop on ended, disconnect or a failed recorder", async () => {
    const link = new FakeLink();
    const host = fakeHost();
    const scope = effectScope();
    const c = scope.run(() => useCobrowseCustomer({ socket: link, embedded: host.channel }))!;
    const refused = c.allow();
    link.take("cobrowse:answer")[0]!.answer({ ok: false, error: { code: "forbidden", message: "no" } });
    await refused;
    expect(c.streaming.value).toBe(false);
    expect(host.posted).toEqual([]);

    const start = async () => {
      const p = c.allow();
      link.take("cobrowse:answer")[0]!.answer({ ok: true });
      await p;
      expect(c.streaming.value).toBe(true);
    };
    await start();
    link.push("cobrowse:state", { conversationId: "c1", status: "ended", reason: "stopped" });
    expect(c.streaming.value).toBe(false);
    await start();
    link.setStatus("reconnecting");
    expect(c.streaming.value).toBe(false);
    link.setStatus("connected");
    await start();
    host.send({ type: "livedesk:cobrowse:failed", reason: "recorder did not load" });
    expect(c.streaming.value).toBe(false);
    expect(link.take("cobrowse:stop")).toHaveLength(1);
    // Not streaming: the agent's pointer and resync are not passed on.
    const before = host.posted.length;
    link.push("cobrowse:highlight", { nodeId: 1 });
    link.push("cobrowse:resync", {});
    expect(host.posted).toHaveLength(before);
    scope.stop();
  });
});

describe("useCobrowse", () => {
  it("should follow only its conversation, ask for a snapshot when events come without one, and clean up", async () => {
    const link = new FakeLink();
    const scope = effectScope();
    const c = scope.run(() => useCobrowse({ socket: link, conversationId: "c1" }))!;
    // On open it probes for a live session it may have missed.
    link.take("cobrowse:resync")[0]!.answer({ ok: false, error: { code: "forbidden", message: "not active" } });
    await settle();
    expect(c.state.value).toBeNull();

    link.push("cobrowse:state", { conversationId: "c2", status: "requested" });
    expect(c.state.value).toBeNull();
    link.push("cobrowse:state", { conversationId: "c1", status: "active" });
    expect(c.state.value?.status).toBe("active");

    link.push("cobrowse:events", { conversationId: "c1", events: [{ type: 3, data: { source: 1 }, timestamp: 1 }] });
    await settle();
    expect(link.take("cobrowse:resync").map((r) => r.payload)).toEqual([{ conversationId: "c1" }]);
    link.push("cobrowse:events", { conversationId: "c2", events: [{ type: 3, data: { source: 1 }, timestamp: 2 }] });
    await settle();
    expect(link.take("cobrowse:resync")).toHaveLength(0);

    void c.highlight(5);
    expect(link.take("cobrowse:highlight").map((r) => r.payload)).toEqual([{ conversationId: "c1", nodeId: 5 }]);
    link.push("cobrowse:state", { conversationId: "c1", status: "ended", reason: "left" });
    expect(c.live.value).toBe(false);
    scope.stop();
    expect(link.listenerCount()).toBe(0);
  });
});
