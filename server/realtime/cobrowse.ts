/**
 * Co-browse events (SPEC section 8). The consent state lives in the store and every
 * relay goes through rooms, so a customer on one instance and its assignee on another
 * work as one; the streaming socket's disconnect is seen by its own instance.
 */
import { CobrowseAnswer, CobrowseEvents, CobrowseHighlight, ConversationRef, Empty } from "../../shared/protocol.js";
import { rooms } from "../../shared/rooms.js";
import * as cobrowse from "../desk/cobrowse.js";
import { assignedTo, targetOf } from "../desk/conversations.js";
import { agentsOnly, asAgent, asCustomer, customersOnly, on, onRole, type HandlerTable } from "./handle.js";
import type { DeskServer, HandlerContext } from "./types.js";

/** The state goes to the room and to the assignee's sockets, which may have just left it (close, release). */
export function announceCobrowse(io: DeskServer, { state, agentId }: cobrowse.CobrowseChange): void {
  io.to(rooms.conversation(state.conversationId)).to(rooms.agent(agentId)).emit("cobrowse:state", state);
}
const announce = (ctx: HandlerContext, change: cobrowse.CobrowseChange) => announceCobrowse(ctx.io, change);

// Batches are relayed in the order they were sent: a replayer needs its full snapshot first.
const relayChains = new WeakMap<object, Promise<unknown>>();
function inOrder<T>(socket: object, fn: () => Promise<T>): Promise<T> {
  const run = (relayChains.get(socket) ?? Promise.resolve()).then(fn, fn);
  relayChains.set(socket, run.catch(() => undefined));
  return run;
}

export const cobrowseHandlers: HandlerTable = {
  "cobrowse:request": on(ConversationRef, async (ctx, { conversationId }) => {
    announce(ctx, await cobrowse.requestCobrowse(ctx.deps, asAgent(ctx), conversationId));
    return {};
  }, agentsOnly),

  "cobrowse:answer": on(CobrowseAnswer, async (ctx, { allow }) => {
    announce(ctx, await cobrowse.answerCobrowse(ctx.deps, asCustomer(ctx), ctx.socket.id, allow));
    return {};
  }, customersOnly),

  "cobrowse:events": on(CobrowseEvents, (ctx, { events }) => inOrder(ctx.socket, async () => {
    const { io, socket, deps, limiter } = ctx;
    await limiter.consume("cobrowse", socket.id);
    cobrowse.checkBatchSize(events);
    const { conversationId, agentId } = await cobrowse.streamTarget(deps, asCustomer(ctx), socket.id);
    io.to(rooms.agent(agentId)).emit("cobrowse:events", { conversationId, events });
    return {};
  }), customersOnly),

  "cobrowse:highlight": on(CobrowseHighlight, async (ctx, { conversationId, nodeId }) => {
    await cobrowse.assigneeOfActive(ctx.deps, asAgent(ctx), conversationId);
    ctx.io.to(rooms.customer(conversationId)).emit("cobrowse:highlight", { nodeId });
    return {};
  }, agentsOnly),

  "cobrowse:resync": on(ConversationRef, async (ctx, { conversationId }) => {
    await cobrowse.assigneeOfActive(ctx.deps, asAgent(ctx), conversationId);
    ctx.io.to(rooms.customer(conversationId)).emit("cobrowse:resync", {});
    return {};
  }, agentsOnly),

  "cobrowse:stop": onRole({ customer: Empty, agent: ConversationRef }, async (ctx, input) => {
    const conversationId = targetOf(ctx.actor, input);
    announce(ctx, await cobrowse.stopCobrowse(ctx.deps, ctx.actor, conversationId));
    return {};
  }),
};

/**
 * Ends a session cut short by a close or release (from whichever instance did it: the
 * state is in the store and the news goes through rooms), or by the streaming tab leaving.
 * Tracked as in-flight work, so a shutdown lets it finish before closing the store.
 */
export function endCobrowseFor(ctx: HandlerContext, conversationId: string, reason: "left" | "closed" | "released", onlyIfStreamer?: string): void {
  ctx.inflight
    .run(() => cobrowse.endCobrowse(ctx.deps, conversationId, reason, onlyIfStreamer))
    .then((change) => change && announce(ctx, change))
    .catch((err: unknown) => ctx.log.warn({ err, conversationId, reason }, "co-browse session not ended"));
}

/** A reload is a disconnect too: the streaming tab's session ends and consent is asked again. */
export function cobrowseOnDisconnect(ctx: HandlerContext): void {
  if (ctx.actor.role === "customer") endCobrowseFor(ctx, ctx.actor.conversationId, "left", ctx.socket.id);
}

export function cobrowseOnConnect(ctx: HandlerContext): void {
  catchUp(ctx).catch((err: unknown) => ctx.log.warn({ err }, "co-browse state not sent to a new socket"));
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
