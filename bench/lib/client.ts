/** What every load generator needs: one real client connection per socket, and small helpers. */
import { io, type Socket } from "socket.io-client";

export type Auth = Record<string, unknown>;
export type AckResult = { ok: true; [k: string]: unknown } | { ok: false; error: { code: string; message?: string } };

/** One WebSocket connection of its own (no multiplexing), no automatic reconnection. */
export function connect(url: string, auth: Auth, timeoutMs = 20_000): Promise<Socket> {
  const socket = io(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true, timeout: timeoutMs });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(new Error(`connect to ${url} failed: ${err.message}`));
    });
  });
}

/** Emits with an acknowledgement; rejects after `timeoutMs`. */
export function request(socket: Socket, event: string, payload: unknown, timeoutMs = 10_000): Promise<AckResult> {
  return socket.timeout(timeoutMs).emitWithAck(event, payload) as Promise<AckResult>;
}

/** Runs `fn` over `items` with at most `concurrency` in flight; results in order. */
export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A message body of `bytes` characters, like a short chat line. */
export const bodyOf = (bytes: number) => "Hello, I have a question about my order. ".repeat(Math.ceil(bytes / 41)).slice(0, Math.max(1, bytes));

export function closeAll(sockets: Iterable<Socket | undefined>): void {
  for (const s of sockets) s?.close();
}
