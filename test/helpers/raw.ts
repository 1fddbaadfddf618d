/**
 * A Socket.IO client made by hand over a plain WebSocket (`ws`), for sending what no
 * well-behaved client would: malformed packets, wrong types, oversized frames, floods.
 * Engine.IO v4 framing: `0` open, `2`/`3` ping/pong, `4` message; Socket.IO packets ride
 * in messages: `40{auth}` connect, `42[event, …]` event, `42<id>[…]` event with ack.
 */
import WebSocket from "ws";

export interface RawSocket {
  ws: WebSocket;
  /** Every text frame received, in order. */
  frames: string[];
  /** Resolves with the close code once the server (or we) closed the connection. */
  closed: Promise<number>;
  readonly isOpen: boolean;
  send(frame: string | Buffer): void;
  /** Resolves with the first frame (already received or to come) matching `test`. */
  waitFor(test: (frame: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Emits `event` with ack id `id` and resolves with the ack's first argument. */
  call(event: string, payload: unknown, id: number, timeoutMs?: number): Promise<any>;
  close(): void;
}

/**
 * Opens `/socket.io/?EIO=4&transport=websocket` and, when `auth` is given, connects to the
 * `/` namespace with it, resolving after the server's `40` (or rejecting on its `44`).
 */
export async function rawSocket(url: string, auth?: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`, { headers });
  const frames: string[] = [];
  const waiters = new Set<(frame: string) => void>();
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  ws.on("error", () => {}); // a refused upgrade or a cut connection shows in `closed`
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const frame = data.toString();
    if (frame === "2") ws.send("3"); // answer engine.io pings
    frames.push(frame);
    for (const w of [...waiters]) w(frame);
  });

  const raw: RawSocket = {
    ws,
    frames,
    closed,
    get isOpen() {
      return ws.readyState === WebSocket.OPEN;
    },
    send(frame) {
      if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    waitFor(test, timeoutMs = 5000) {
      const seen = frames.find(test);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(listener);
          reject(new Error(`no frame matched within ${timeoutMs} ms; last: ${frames.slice(-3).join(" | ").slice(0, 300)}`));
        }, timeoutMs);
        const listener = (frame: string) => {
          if (!test(frame)) return;
          clearTimeout(timer);
          waiters.delete(listener);
          resolve(frame);
        };
        waiters.add(listener);
        void closed.then(() => {
          if (!waiters.has(listener)) return;
          clearTimeout(timer);
          waiters.delete(listener);
          reject(new Error("connection closed"));
        });
      });
    },
    async call(event, payload, id, timeoutMs) {
      raw.send(`42${id}${JSON.stringify([event, payload])}`);
      const frame = await raw.waitFor((f) => f.startsWith(`43${id}[`), timeoutMs);
      return (JSON.parse(frame.slice(`43${id}`.length)) as unknown[])[0];
    },
    close() {
      ws.terminate();
    },
  };

  await raw.waitFor((f) => f.startsWith("0{"));
  if (auth) {
    raw.send(`40${JSON.stringify(auth)}`);
    const reply = await raw.waitFor((f) => f.startsWith("40") || f.startsWith("44"));
    if (reply.startsWith("44")) {
      raw.close();
      throw new Error((JSON.parse(reply.slice(2)) as { message: string }).message);
    }
  }
  return raw;
}
