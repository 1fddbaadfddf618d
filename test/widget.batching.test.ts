import { describe, expect, it } from "vitest";
import { createChunkJoiner, splitEvents, utf8Length } from "../client/widget/batching.js";
import { LIMITS } from "../shared/protocol.js";

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe("co-browse batching", () => {
  it("measures UTF-8 like the desk does", () => {
    for (const s of ["abc", "é", "€", "😀", "a\"b\\c", "日本語😀é"]) expect(utf8Length(s)).toBe(Buffer.byteLength(s));
  });

  it("packs small events into as few batches as fit, in order", () => {
    const events = Array.from({ length: 2000 }, (_, i) => ({ type: 3, n: i, data: "x".repeat(100) }));
    const batches = splitEvents(events, LIMITS.cobrowseBatch);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThan(6);
    for (const b of batches) expect(bytes(b)).toBeLessThan(LIMITS.cobrowseBatch);
    expect(batches.flat()).toEqual(events);
  });

  it("splits an event bigger than a batch into chunks that join back into the same event", () => {
    const snapshot = { type: 2, data: { text: "quoted \"text\" and \\ backslashes, é and 😀 ".repeat(8000) } };
    const events = [{ type: 4, data: { href: "https://shop.example" } }, snapshot, { type: 3, data: { n: 1 } }];
    const batches = splitEvents(events, LIMITS.cobrowseBatch);
    expect(batches.length).toBeGreaterThan(4);
    for (const b of batches) expect(bytes(b)).toBeLessThan(LIMITS.cobrowseBatch);
    const joiner = createChunkJoiner();
    const received = batches.flatMap((b) => joiner.join(JSON.parse(JSON.stringify(b))));
    expect(received).toEqual(events);
  });

  it("holds chunks until the last arrives, and forgets them on reset", () => {
    const [first, ...rest] = splitEvents([{ type: 2, big: "y".repeat(200_000) }], 60 * 1024);
    const joiner = createChunkJoiner();
    expect(joiner.join(first!)).toEqual([]);
    joiner.reset();
    expect(rest.flatMap((b) => joiner.join(b))).toEqual([]);
  });
});
