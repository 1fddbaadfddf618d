import { describe, expect, it } from "vitest";
import { runFuzz } from "./fuzz/engine.js";

describe("fuzzing", () => {
  it("keeps the desk healthy under seconds of hostile socket events, HTTP requests and raw frames", async () => {
    const report = await runFuzz({ durationMs: 5000, concurrency: 8, ackTimeoutMs: 3000 });
    // a failure prints its seed: replay it with `npm run fuzz -- --seed=<seed>`
    expect(report.failures, `seed ${report.seed}`).toEqual([]);
    expect(report.events.fuzzed).toEqual(expect.arrayContaining(["message:send", "typing", "history", "conversation:claim", "presence:set"]));
    expect(report.socketCalls).toBeGreaterThan(50);
    expect(report.httpRequests).toBeGreaterThan(20);
    expect(report.rawFrames).toBeGreaterThan(2);
    expect(report.acks.ok ?? 0).toBeGreaterThan(0);
  });
});
