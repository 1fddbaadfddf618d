/**
 * What the desk tells everyone after a change. Used by socket handlers and by the HTTP
 * API (a conversation started over HTTP appears in every agent's queue).
 */
import { rooms } from "../../shared/rooms.js";
import type { Conversation, Message } from "../../shared/protocol.js";
import { assignedTo, queuePositions } from "../desk/conversations.js";
import type { DeskDeps } from "../desk/deps.js";
import type { PresenceChange } from "../desk/presence.js";
import { endCobrowse } from "../desk/cobrowse.js";
import { announceCobrowse } from "./cobrowse.js";
import type { Logger } from "../log.js";
import type { DeskServer } from "./types.js";

export interface Broadcaster {
  conversationUpdated(conversation: Conversation): void;
  /** To the conversation's room and, when it has one, to every socket of its assignee. */
  messageNew(message: Message, conversation: Conversation): void;
  /**
   * After a claim, release or close: everyone hears of it, the queue moves, a former
   * assignee leaves the room and a co-browse session it cut short ends.
   */
  transitioned(conversation: Conversation, previous: Conversation): void;
  /** Pushes `queue:position` to every waiting customer. */
  queueChanged(): Promise<void>;
  presence(change: PresenceChange): Promise<void>;
  /** Puts every socket of an agent in (or out of) a conversation's room, on every instance. */
  joinAssignee(agentId: string, conversationId: string): void;
  /** Cuts off every socket of one login (logout), on every instance. */
  disconnectSession(sessionId: string): void;
  /** Cuts off every socket of an agent (disabled), on every instance. */
  disconnectAgent(agentId: string): void;
  leaveAssignee(agentId: string, conversationId: string): void;
}

/** `scaledOut`: other instances share this desk through an adapter (they must hear of queue changes). */
export function createBroadcaster(
  io: DeskServer,
  deps: DeskDeps,
  log: Logger,
  scaledOut = false,
  track: <T>(work: () => Promise<T>) => Promise<T> = (work) => work(),
): Broadcaster {
  // Coalesce bursts of queue changes into one position push.
  let pending: Promise<void> | null = null;
  let again = false;
  // Each instance tells only its own waiting customers, so a queue change costs one
  // inter-server message instead of one published broadcast per waiting customer.
  const localRooms = io.of("/").adapter.rooms;
  async function pushPositions() {
    const positions = await queuePositions(deps);
    for (const { conversationId, position } of positions) {
      const room = rooms.customer(conversationId);
      if (localRooms.has(room)) io.local.to(room).emit("queue:position", { position });
    }
  }
  /** Ends a live co-browse session; tracked, so a shutdown lets it finish before closing the store. */
  function endSession(conversationId: string, reason: "left" | "closed" | "released"): void {
    track(() => endCobrowse(deps, conversationId, reason))
      .then((change) => change && announceCobrowse(io, change))
      .catch((err: unknown) => log.warn({ err, conversationId, reason }, "co-browse session not ended"));
  }

  function queueChanged(tellOthers: boolean): Promise<void> {
    if (tellOthers && scaledOut) io.serverSideEmit("queue:changed");
    if (pending) {
      again = true;
      return pending;
    }
    pending = (async () => {
      try {
        do {
          again = false;
          await pushPositions();
        } while (again);
      } catch (err) {
        log.warn({ err }, "queue positions not pushed");
      } finally {
        pending = null;
      }
    })();
    return pending;
  }
  io.on("queue:changed", () => void queueChanged(false));

  return {
    transitioned(conversation, previous) {
      this.conversationUpdated(conversation);
      if (conversation.status === "queued" || previous.status === "queued") void queueChanged(true);
      if (previous.assignee && conversation.status !== "assigned") {
        this.leaveAssignee(previous.assignee.id, conversation.id);
        endSession(conversation.id, conversation.status === "closed" ? "closed" : "released");
      }
    },
    conversationUpdated(conversation) {
      io.to(rooms.conversation(conversation.id)).to(rooms.agents).emit("conversation:updated", conversation);
    },
    messageNew(message, conversation) {
      // Also to the assignee's own room: with the sharded adapter an instance subscribes to
      // a room's channel only when a local socket joins it, so right after a claim the
      // conversation room may not reach the assignee's instance yet; its agent room does.
      // A socket in both rooms still gets the message once.
      const target = io.to(rooms.conversation(message.conversationId));
      (conversation.assignee ? target.to(rooms.agent(conversation.assignee.id)) : target).emit("message:new", message);
    },
    queueChanged: () => queueChanged(true),
    async presence({ event, conversation }) {
      if (event.role === "customer") {
        io.to(rooms.agents).emit("presence", event);
        if (conversation) this.conversationUpdated(conversation);
        // a customer gone for good (its tab closed, or its instance died) ends its co-browse session
        if (event.status === "offline" && event.conversationId) endSession(event.conversationId, "left");
        return;
      }
      io.to(rooms.agents).emit("presence", event);
      for (const c of await assignedTo(deps, event.id)) {
        io.to(rooms.customer(c.id)).emit("presence", { ...event, conversationId: c.id });
      }
    },
    joinAssignee(agentId, conversationId) {
      io.in(rooms.agent(agentId)).socketsJoin(rooms.conversation(conversationId));
    },
    disconnectSession(sessionId) {
      io.in(rooms.session(sessionId)).disconnectSockets(true);
    },
    disconnectAgent(agentId) {
      io.in(rooms.agent(agentId)).disconnectSockets(true);
    },
    leaveAssignee(agentId, conversationId) {
      io.in(rooms.agent(agentId)).socketsLeave(rooms.conversation(conversationId));
    },
  };
}
