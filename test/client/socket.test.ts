import { afterEach, describe, expect, it, vi } from "vitest";
import { AckTimeoutError } from "../../client/src/delivery/link.js";
import { emitWithAck, type DeskSocket } from "../../client/src/socket.js";

type Emit = (event: string, payload: unknown, ack: (res: unknown) => void) => void;
const fakeSocket = (emit: Emit) => ({ emit }) as unknown as Pick<DeskSocket, "emit">;

describe("emitWithAck", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("should resolve with the acknowledgement", async () => {
    const socket = fakeSocket((_e, _p, ack) => ack({ ok: true }));
    await expect(emitWithAck(socket, "presence:set", { status: "away" })).resolves.toEqual({ ok: true });
  });

  it("should pass the event and payload through unchanged", async () => {
    const emit = vi.fn<Emit>((_e, _p, ack) => ack({ ok: true }));
    await emitWithAck(fakeSocket(emit), "typing", { isTyping: true });
    expect(emit).toHaveBeenCalledWith("typing", { isTyping: true }, expect.any(Function));
  });

  it("should timeout if the server does not acknowledge the event", async () => {
    vi.useFakeTimers();
    const pending = emitWithAck(fakeSocket(() => {}), "queue:list", {}, 5_000);
    const assertion = expect(pending).rejects.toBeInstanceOf(AckTimeoutError);
    await vi.advanceTimersByTimeAsync(5_000);
    await assertion;
  });
});
