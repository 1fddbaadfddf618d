/**
 * Co-browse events (SPEC section 8). The consent state lives in the store and every
 * relay goes through rooms, so a customer on one instance and its assignee on another
 * work as one; the streaming socket's disconnect is seen by its own instance.
 */
import { DeskError } from "../../shared/errors.js";
import { CobrowseAnswer, CobrowseEvents, CobrowseHighlight, ConversationRef, Empty, type Conversation } from "../../shared/protocol.js";
import { rooms } from "../../shared/rooms.js";
import * as cobrowse from "../desk/cobrowse.js";
import { assignedTo, targetOf, type AgentActor, type CustomerActor } from "../desk/conversations.js";
import { byRole, handle } from "./handle.js";
import type { HandlerContext } from "./types.js";

export function registerCobrowseHandlers(ctx: HandlerContext): void {
  const { io, socket, deps, actor, limiter, log } = ctx;
  const agent = (): AgentActor => {
    if (actor.role !== "agent") throw new DeskError("forbidden", "Only agents can do this.");
    return actor;
  };
  const customer = (): CustomerActor => {
    if (actor.role !== "customer") throw new DeskError("forbidden", "Only the customer can do this.");
    return actor;
  };
  /** The state goes to the room and to the assignee's sockets, which may have just left it (close, release). */
  const announce = ({ state, agentId }: cobrowse.CobrowseChange) => {
    io.to(rooms.conversation(state.conversationId)).to(rooms.agent(agentId)).emit("cobrowse:state", state);
  };
  const agentsOnly = { only: "agent" } as const;
  const customersOnly = { only: "customer" } as const;

  socket.on("cobrowse:request", handle(ctx, "cobrowse:request", ConversationRef, async ({ conversationId }) => {
    announce(await cobrowse.requestCobrowse(deps, agent(), conversationId));
    return {};
  }, agentsOnly));

  socket.on("cobrowse:answer", handle(ctx, "cobrowse:answer", CobrowseAnswer, async ({ allow }) => {
    announce(await cobrowse.answerCobrowse(deps, customer(), socket.id, allow));
    return {};
  }, customersOnly));

  // Batches are relayed in the order they were sent: a replayer needs its full snapshot first.
  let relayed: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = relayed.then(fn, fn);
    relayed = run.catch(() => undefined);
    return run;
  };
  socket.on("cobrowse:events", handle(ctx, "cobrowse:events", CobrowseEvents, ({ events }) => inOrder(async () => {
    await limiter.consume("cobrowse", socket.id);
    cobrowse.checkBatchSize(events);
    const { conversationId, agentId } = await cobrowse.streamTarget(deps, customer(), socket.id);
    io.to(rooms.agent(agentId)).emit("cobrowse:events", { conversationId, events });
    return {};
  }), customersOnly));

  socket.on("cobrowse:highlight", handle(ctx, "cobrowse:highlight", CobrowseHighlight, async ({ conversationId, nodeId }) => {
    await cobrowse.assigneeOfActive(deps, agent(), conversationId);
    io.to(rooms.customer(conversationId)).emit("cobrowse:highlight", { nodeId });
    return {};
  }, agentsOnly));

  socket.on("cobrowse:resync", handle(ctx, "cobrowse:resync", ConversationRef, async ({ conversationId }) => {
    await cobrowse.assigneeOfActive(deps, agent(), conversationId);
    io.to(rooms.customer(conversationId)).emit("cobrowse:resync", {});
    return {};
  }, agentsOnly));

  socket.on("cobrowse:stop", handle(ctx, "cobrowse:stop", byRole(ctx, Empty, ConversationRef), async (input) => {
    const conversationId = targetOf(actor, "conversationId" in input ? input.conversationId : undefined);
    announce(await cobrowse.stopCobrowse(deps, actor, conversationId));
    return {};
  }));

  const end = (conversationId: string, reason: "left" | "closed" | "released", onlyIfStreamer?: string) => {
    // tracked, so a shutdown lets it finish before closing the store
    ctx.inflight
      .run(() => cobrowse.endCobrowse(deps, conversationId, reason, onlyIfStreamer))
      .then((change) => change && announce(change))
      .catch((err: unknown) => log.warn({ err, conversationId, reason }, "co-browse session not ended"));
  };

  if (actor.role === "customer") {
    // A reload is a disconnect too: consent is asked again.
    socket.on("disconnect", () => end(actor.conversationId, "left", socket.id));
  }

  // Closing or releasing a conversation, on whatever instance, reaches the sockets taking
  // part in it as `conversation:updated`: each of them tries to end the session and the
  // store's compare-and-set lets exactly one announce it. Other agents' sockets skip it.
  socket.onAnyOutgoing((event: string, ...args: unknown[]) => {
    if (event !== "conversation:updated") return;
    const c = args[0] as Conversation;
    if (c.status === "assigned") return;
    const involved = actor.role === "customer" ? actor.conversationId === c.id : socket.rooms.has(rooms.conversation(c.id));
    if (involved) end(c.id, c.status === "closed" ? "closed" : "released");
  });

  catchUp(ctx).catch((err: unknown) => log.warn({ err }, "co-browse state not sent to a new socket"));
}

/**
 * A socket joining a live session gets its state; a new tab of the assignee needs a full
 * snapshot, so the customer is asked for one.
 */
async function catchUp({ io, socket, deps, actor }: HandlerContext): Promise<void> {
  if (actor.role === "customer") {
    const state = await cobrowse.liveSessionOf(deps, actor.conversationId);
    if (state) socket.emit("cobrowse:state", state);
    return;
  }
  const held = await assignedTo(deps, actor.agentId);
  if (held.length === 0) return;
  for (const state of await cobrowse.liveSessionsOf(deps, actor.agentId, held.map((c) => c.id))) {
    socket.emit("cobrowse:state", state);
    if (state.status === "active") io.to(rooms.customer(state.conversationId)).emit("cobrowse:resync", {});
  }
}
