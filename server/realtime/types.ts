import type { Server, Socket } from "socket.io";
import type {
  Actor,
  ClientToServerEvents,
  InterServerEvents,
  ServerToClientEvents,
  SocketData,
} from "../../shared/protocol.js";
import type { DeskDeps } from "../desk/deps.js";
import type { Limiter } from "../limits.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { Broadcaster } from "./broadcast.js";
import type { Inflight } from "./handle.js";

export type DeskServer = Server<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;
export type DeskSocket = Socket<ClientToServerEvents, ServerToClientEvents, InterServerEvents, SocketData>;

/** What a group of socket handlers is given. */
export interface HandlerContext {
  io: DeskServer;
  socket: DeskSocket;
  actor: Actor;
  deps: DeskDeps;
  limiter: Limiter;
  log: Logger;
  broadcast: Broadcaster;
  inflight: Inflight;
  metrics: Metrics;
}
