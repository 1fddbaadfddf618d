/** Socket.IO: handshake checks, authentication, rooms and the handlers of each capability. */
import type { IncomingMessage } from "node:http";
import { DeskError } from "../../shared/errors.js";
import type { Actor } from "../../shared/protocol.js";
import { rooms } from "../../shared/rooms.js";
import { authenticateAgent } from "../desk/agents.js";
import { assignedTo, authenticateCustomer, queuePositions } from "../desk/conversations.js";
import type { DeskDeps } from "../desk/deps.js";
import { agentPerson, personOf, presenceOf } from "../desk/presence.js";
import { isCustomerToken } from "../desk/tokens.js";
import { readCookie, sameOriginOrNone, SESSION_COOKIE } from "../cookies.js";
import { isStoreUnavailable } from "../store/store.js";
import { cobrowseHandlers, cobrowseOnConnect, cobrowseOnDisconnect } from "./cobrowse.js";
import { conversationHandlers } from "./conversations.js";
import { createDispatcher, type SharedContext } from "./handle.js";
import { messageHandlers } from "./messages.js";
import { presenceHandlers, presenceOnConnect, presenceOnDisconnect, startPresenceHeartbeat } from "./presence.js";
import type { DeskServer, DeskSocket, HandlerContext } from "./types.js";

/** What the realtime layer is built from: everything its handlers share but the server itself. */
export type RealtimeDeps = Omit<SharedContext, "io">;

/** The desk's own origin, and the sites allowed to embed it. A request without Origin is judged by its credentials. */
export function originAllowed(req: IncomingMessage, allowed: string[]): boolean {
  return sameOriginOrNone(req.headers) || allowed.includes(req.headers.origin ?? "");
}

async function authenticate(deps: DeskDeps, socket: DeskSocket): Promise<Actor> {
  const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
  if (auth.customerToken !== undefined) return authenticateCustomer(deps, auth.customerToken);
  if (auth.agentToken !== undefined) return authenticateAgent(deps, auth.agentToken);
  // The session cookie counts only from the desk's own pages (or a non-browser client):
  // a site allowed to embed the widget must never act as a signed-in agent.
  const cookie = readCookie(socket.handshake.headers.cookie, SESSION_COOKIE);
  if (cookie && !isCustomerToken(cookie) && sameOriginOrNone(socket.handshake.headers)) return authenticateAgent(deps, cookie);
  throw new DeskError("unauthorized");
}

export function attachRealtime(io: DeskServer, r: RealtimeDeps): { stop: () => void } {
  const { deps, log, broadcast } = r;

  io.use((socket, next) => {
    authenticate(deps, socket).then(
      (actor) => {
        socket.data.actor = actor;
        next();
      },
      (err: unknown) => {
        if (err instanceof DeskError) return next(new Error(err.code));
        if (isStoreUnavailable(err)) return next(new Error("unavailable"));
        log.error({ err }, "handshake failed");
        next(new Error("internal"));
      },
    );
  });

  // Sockets per person, per instance: an extra handshake fails with `rate_limited`.
  io.use((socket, next) => {
    if (socket.conn.readyState !== "open") return next(new Error("unauthorized"));
    const release = r.limiter.caps.takeSocket(socket.data.actor.role, personOf(socket.data.actor));
    if (!release) return next(new Error("rate_limited"));
    // whichever comes first: the socket leaves, or its connection closes before it ever joined
    socket.on("disconnect", release);
    socket.conn.once("close", release);
    next();
  });

  // Handlers are built once and shared by every socket: a connection allocates no
  // closures of its own, which keeps idle sockets small.
  const shared: SharedContext = { io, deps, limiter: r.limiter, log, broadcast, inflight: r.inflight, metrics: r.metrics };
  const dispatch = createDispatcher(
    { ...messageHandlers, ...conversationHandlers, ...presenceHandlers, ...cobrowseHandlers },
    shared,
  );
  const contextOf = (socket: DeskSocket): HandlerContext => ({ ...shared, socket, actor: socket.data.actor });
  function onDisconnect(this: DeskSocket) {
    const ctx = contextOf(this);
    presenceOnDisconnect(ctx);
    cobrowseOnDisconnect(ctx);
  }

  io.on("connection", (socket) => {
    // The handshake already holds what we need; keeping the whole HTTP request per
    // connection costs memory (Socket.IO performance guide).
    (socket.conn as unknown as { request: unknown }).request = null;
    socket.onAny(dispatch);
    socket.on("disconnect", onDisconnect);
    const ctx = contextOf(socket);
    presenceOnConnect(ctx);
    cobrowseOnConnect(ctx);
    joinRooms(ctx).catch((err) => log.warn({ err }, "joining rooms failed"));
  });

  return { stop: startPresenceHeartbeat(io, deps, broadcast, log) };
}

async function joinRooms({ socket, actor, deps }: HandlerContext): Promise<void> {
  if (actor.role === "customer") {
    socket.join([rooms.conversation(actor.conversationId), rooms.customer(actor.conversationId)]);
    const conversation = await deps.store.getConversation(actor.conversationId);
    if (conversation?.status === "queued") {
      const mine = (await queuePositions(deps)).find((p) => p.conversationId === actor.conversationId);
      if (mine) socket.emit("queue:position", { position: mine.position });
    } else if (conversation?.status === "assigned" && conversation.assignee) {
      // a reloaded customer page learns its agent's presence at once
      const { id, name } = conversation.assignee;
      const status = await presenceOf(deps, agentPerson(id));
      socket.emit("presence", { role: "agent", id, name, status, conversationId: conversation.id });
    }
    return;
  }
  socket.join([rooms.agents, rooms.agent(actor.agentId), rooms.session(actor.sessionId)]);
  const held = await assignedTo(deps, actor.agentId);
  socket.join(held.map((c) => rooms.conversation(c.id)));
}
