import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConversationFeed, type FeedSnapshot } from "../../client/src/delivery/feed.js";
import { AckTimeoutError } from "../../client/src/delivery/link.js";
import { SeqLog } from "../../client/src/delivery/seqLog.js";
import { conversation, FakeLink, message } from "./fakeLink.js";

/** Lets promise callbacks (acks, history answers) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function customerFeed(link: FakeLink) {
  let snapshot: FeedSnapshot | null = null;
  const feed = new ConversationFeed({
    link,
    conversationId: null,
    self: { role: "customer", name: "Cleo" },
    onChange: (s) => (snapshot = s),
  });
  const seqs = () => snapshot?.lines.map((l) => l.seq) ?? [];
  const lines = () => snapshot?.lines ?? [];
  return { feed, seqs, lines };
}

describe("SeqLog", () => {
  it("should drop a message whose seq it already holds", () => {
    const log = new SeqLog();
    expect(log.add(message(1))).toBe(true);
    expect(log.add(message(1, { body: "again" }))).toBe(false);
    expect(log.list().map((m) => m.body)).toEqual(["message 1"]);
  });

  it("should track the highest contiguous seq and report a hole", () => {
    const log = new SeqLog();
    [1, 2, 4, 5].forEach((s) => log.add(message(s)));
    expect(log.contiguous).toBe(2);
    expect(log.hasGap).toBe(true);
    log.add(message(3));
    expect(log.contiguous).toBe(5);
    expect(log.hasGap).toBe(false);
  });

  it("should list messages in seq order whatever the arrival order", () => {
    const log = new SeqLog();
    [3, 1, 2].forEach((s) => log.add(message(s)));
    expect(log.list().map((m) => m.seq)).toEqual([1, 2, 3]);
  });
});

describe("ConversationFeed", () => {
  let link: FakeLink;
  beforeEach(() => {
    link = new FakeLink();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("should load history from seq 0 when started on a live connection", async () => {
    const { feed, seqs } = customerFeed(link);
    feed.start();
    const [history] = link.take("history");
    expect(history?.payload).toEqual({ afterSeq: 0 });
    history!.answer({ ok: true, conversation: conversation(2), messages: [message(1), message(2)] });
    await settle();
    expect(seqs()).toEqual([1, 2]);
  });

  it("should ask history from the highest contiguous seq on every reconnect", async () => {
    const { feed, seqs } = customerFeed(link);
    feed.start();
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(3), messages: [message(1), message(2), message(3)] });
    await settle();
    link.setStatus("reconnecting");
    expect(link.take("history")).toHaveLength(0);
    link.setStatus("connected");
    const [again] = link.take("history");
    expect(again?.payload).toEqual({ afterSeq: 3 });
    again!.answer({ ok: true, conversation: conversation(4), messages: [message(4)] });
    await settle();
    expect(seqs()).toEqual([1, 2, 3, 4]);
  });

  it("should fetch the gap when a message:new skips ahead, and show each seq once", async () => {
    const { feed, seqs } = customerFeed(link);
    feed.start();
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(2), messages: [message(1), message(2)] });
    await settle();

    link.push("message:new", message(5));
    const [gap] = link.take("history");
    expect(gap?.payload).toEqual({ afterSeq: 2 });
    // The gap answer repeats the message that revealed it.
    gap!.answer({ ok: true, conversation: conversation(5), messages: [message(3), message(4), message(5)] });
    await settle();
    expect(seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(link.take("history")).toHaveLength(0);
  });

  it("should ignore a message:new it already holds", async () => {
    const { feed, seqs } = customerFeed(link);
    feed.start();
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(2), messages: [message(1), message(2)] });
    await settle();
    link.push("message:new", message(2));
    expect(seqs()).toEqual([1, 2]);
    expect(link.take("history")).toHaveLength(0);
  });

  it("should coalesce overlapping gap fetches into one more request", async () => {
    const { feed, seqs } = customerFeed(link);
    feed.start();
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(1), messages: [message(1)] });
    await settle();
    link.push("message:new", message(3));
    link.push("message:new", message(5));
    const first = link.take("history");
    expect(first).toHaveLength(1);
    first[0]!.answer({ ok: true, conversation: conversation(3), messages: [message(2), message(3)] });
    await settle();
    const [second] = link.take("history");
    expect(second?.payload).toEqual({ afterSeq: 3 });
    second!.answer({ ok: true, conversation: conversation(5), messages: [message(4), message(5)] });
    await settle();
    expect(seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it("should retry message:send with the same clientId after a timeout", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const { feed, lines } = customerFeed(link);
    feed.start();
    link.take("history");
    const clientId = feed.send("hello");
    const [first] = link.take("message:send");
    expect(first?.payload).toEqual({ clientId, body: "hello" });
    first!.fail(new AckTimeoutError("message:send", 10_000));
    await settle();
    expect(lines()[0]?.state).toBe("sending");
    await vi.advanceTimersByTimeAsync(1_000);
    const [second] = link.take("message:send");
    expect(second?.payload).toEqual({ clientId, body: "hello" });
    second!.answer({ ok: true, message: message(1, { clientId, body: "hello", author: { role: "customer", name: "Cleo" } }) });
    await settle();
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ seq: 1, clientId, state: "sent", own: true });
  });

  it("should resend an unacknowledged message with the same clientId on reconnect", async () => {
    const { feed, lines } = customerFeed(link);
    feed.start();
    link.take("history");
    const clientId = feed.send("still there?");
    expect(link.take("message:send")).toHaveLength(1); // lost with the connection
    link.setStatus("reconnecting");
    link.setStatus("connected");
    const [resent] = link.take("message:send");
    expect(resent?.payload).toEqual({ clientId, body: "still there?" });
    expect(lines().map((l) => l.state)).toEqual(["sending"]);
  });

  it("should hold a message written while offline and send it once connected", async () => {
    link.status = "reconnecting";
    const { feed, lines } = customerFeed(link);
    feed.start();
    const clientId = feed.send("offline note");
    expect(link.take("message:send")).toHaveLength(0);
    expect(lines()[0]).toMatchObject({ clientId, state: "sending" });
    link.setStatus("connected");
    expect(link.take("message:send").map((r) => r.payload)).toEqual([{ clientId, body: "offline note" }]);
  });

  it("should mark a refused message failed, and retry it with the same clientId when asked", async () => {
    const { feed, lines } = customerFeed(link);
    feed.start();
    link.take("history");
    const clientId = feed.send("too late");
    link.take("message:send")[0]!.answer({ ok: false, error: { code: "conversation_closed", message: "Closed." } });
    await settle();
    expect(lines()[0]).toMatchObject({ state: "failed", error: { code: "conversation_closed" } });
    link.setStatus("reconnecting");
    link.setStatus("connected");
    expect(link.take("message:send")).toHaveLength(0); // a refusal is not retried by itself
    feed.retry(clientId);
    expect(link.take("message:send").map((r) => r.payload)).toEqual([{ clientId, body: "too late" }]);
  });

  it("should show one line when the broadcast of our message arrives before its ack", async () => {
    const { feed, lines } = customerFeed(link);
    feed.start();
    link.take("history")[0]!.answer({ ok: true, conversation: conversation(0), messages: [] });
    await settle();
    const clientId = feed.send("hi");
    const stored = message(1, { clientId, body: "hi", author: { role: "customer", name: "Cleo" } });
    link.push("message:new", stored);
    link.take("message:send")[0]!.answer({ ok: true, message: stored });
    await settle();
    expect(lines().map((l) => [l.seq, l.state, l.own])).toEqual([[1, "sent", true]]);
  });

  it("should address an agent's requests to its conversation and ignore other conversations", async () => {
    let snapshot: FeedSnapshot | null = null;
    const feed = new ConversationFeed({
      link,
      conversationId: "c1",
      self: { role: "agent", id: "a1", name: "Ada" },
      onChange: (s) => (snapshot = s),
    });
    feed.start();
    const [history] = link.take("history");
    expect(history?.payload).toEqual({ conversationId: "c1", afterSeq: 0 });
    history!.answer({ ok: true, conversation: conversation(1), messages: [message(1)] });
    await settle();
    link.push("message:new", message(2, { conversationId: "other" }));
    expect(snapshot!.lines.map((l) => l.seq)).toEqual([1]);
    feed.send("reply");
    expect(link.take("message:send")[0]?.payload).toMatchObject({ conversationId: "c1", body: "reply" });
    expect(snapshot!.lines[0]?.own).toBe(true);
  });

  it("should remove every listener it added when stopped", () => {
    const { feed } = customerFeed(link);
    feed.start();
    expect(link.listenerCount()).toBeGreaterThan(0);
    feed.stop();
    expect(link.listenerCount()).toBe(0);
  });
});
