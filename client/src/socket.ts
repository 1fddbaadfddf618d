/**
 * The one typed Socket.IO connection of the client, and its adapter to the delivery
 * layer's `DeskLink`. Only composables import this file.
 */
import { io, type Socket } from "socket.io-client";
import type { Ack, ClientToServerEvents, ServerToClientEvents } from "../../shared/protocol.js";
import {
  AckTimeoutError,
  type DeskLink,
  type LinkStatus,
  type PayloadOf,
  type RequestEvent,
  type ResultOf,
} from "./delivery/link.js";

export type DeskSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Credentials = { customerToken: string } | { agentToken: string };

export interface DeskSocketOptions {
  /** Read on every (re)connect, so a refreshed token is picked up. */
  credentials: () => Credentials | null;
  /** Defaults to the page's own origin. */
  url?: string;
}

/**
 * How a dropped socket comes back: a first retry within 150–450 ms (an instance that
 * died or drained is replaced fast), then exponential backoff with ±50 % jitter, so a
 * whole instance's clients do not hit the survivor in one wave.
 */
export const RECONNECT = { reconnectionDelay: 300, reconnectionDelayMax: 5000, randomizationFactor: 0.5 } as const;

/** Creates the socket, not yet connected. */
export function createDeskSocket({ credentials, url }: DeskSocketOptions): DeskSocket {
  return io(url ?? "", {
    ...RECONNECT,
    autoConnect: false,
    withCredentials: true,
    auth: (cb) => cb(credentials() ?? {}),
  });
}

/** Emits `event` and resolves with its acknowledgement, or rejects after `timeoutMs`. */
export function emitWithAck<E extends RequestEvent>(
  socket: Pick<DeskSocket, "emit">,
  event: E,
  payload: PayloadOf<E>,
  timeoutMs = 10_000,
): Promise<Ack<ResultOf<E>>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new AckTimeoutError(event, timeoutMs)), timeoutMs);
    // The event map types each event separately; a generic event needs one cast here.
    const emit = socket.emit as unknown as (e: E, p: PayloadOf<E>, ack: (res: Ack<ResultOf<E>>) => void) => void;
    emit.call(socket, event, payload, (res) => {
      clearTimeout(timer);
      resolve(res);
    });
  });
}

export interface SocketLink extends DeskLink {
  connect(): void;
  /** Hangs up and removes every listener this link added. */
  close(): void;
}

/** Wraps a socket as a `DeskLink`, tracking its connection status. */
export function linkSocket(socket: DeskSocket, timeoutMs = 10_000): SocketLink {
  let status: LinkStatus = "connecting";
  let revive: ReturnType<typeof setTimeout> | undefined;
  const watchers = new Set<(s: LinkStatus) => void>();
  const set = (next: LinkStatus) => {
    if (next === status) return;
    status = next;
    for (const w of [...watchers]) w(next);
  };

  const onConnect = () => set("connected");
  const onDisconnect = (reason: Socket.DisconnectReason) => {
    if (reason === "io client disconnect") return set("closed");
    set("reconnecting");
    // The server hung up on purpose (e.g. a revoked session); socket.io-client will not
    // come back by itself, so try once more and let the credential check decide.
    if (reason === "io server disconnect") revive = setTimeout(() => socket.connect(), 1_000);
  };
  const onConnectError = (err: Error) => {
    if (err.message === "unauthorized") return set("unauthorized");
    set(status === "connecting" ? "connecting" : "reconnecting");
    if (!socket.active) revive = setTimeout(() => socket.connect(), 2_000);
  };
  socket.on("connect", onConnect);
  socket.on("disconnect", onDisconnect);
  socket.on("connect_error", onConnectError);

  return {
    get status() {
      return status;
    },
    request: (event, payload) => emitWithAck(socket, event, payload, timeoutMs),
    on(event, listener) {
      // Same cast as in emitWithAck: one listener type per event, chosen generically.
      const add = socket.on as unknown as (e: typeof event, l: typeof listener) => void;
      const remove = socket.off as unknown as (e: typeof event, l: typeof listener) => void;
      add.call(socket, event, listener);
      return () => remove.call(socket, event, listener);
    },
    onStatus(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    connect: () => {
      if (status === "unauthorized") set("connecting");
      socket.connect();
    },
    close() {
      clearTimeout(revive);
      socket.off("connect", onConnect);
      socket.off("disconnect", onDisconnect);
      socket.off("connect_error", onConnectError);
      socket.disconnect();
      socket.removeAllListeners();
      set("closed");
      watchers.clear();
    },
  };
}
