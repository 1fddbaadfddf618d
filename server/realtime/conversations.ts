/** Queue and conversation lifecycle events. */
import { ConversationList, ConversationRef, Empty } from "../../shared/protocol.js";
import { rooms } from "../../shared/rooms.js";
import * as desk from "../desk/conversations.js";
import { agentPerson, presenceOf } from "../desk/presence.js";
import { agentsOnly, asAgent, on, onRole, type HandlerTable } from "./handle.js";

export const conversationHandlers: HandlerTable = {
  "queue:list": on(Empty, async ({ deps }) => ({ conversations: await desk.listQueue(deps) }), agentsOnly),

  "conversation:list": on(ConversationList, async (ctx, input) => {
    return { conversations: await desk.listConversations(ctx.deps, asAgent(ctx), input) };
  }, agentsOnly),

  "conversation:claim": on(ConversationRef, async (ctx, { conversationId }) => {
    const { deps, io, broadcast } = ctx;
    const me = asAgent(ctx);
    const { conversation, previous } = await desk.claim(deps, me, conversationId);
    broadcast.joinAssignee(me.agentId, conversationId);
    ctx.broadcast.transitioned(conversation, previous);
    // the customer learns who answers, and whether they are here; the claim stands either way
    presenceOf(deps, agentPerson(me.agentId)).then(
      (status) => io.to(rooms.customer(conversationId)).emit("presence", { role: "agent", id: me.agentId, name: me.name, status, conversationId }),
      (err: unknown) => ctx.log.warn({ err, conversationId }, "assignee presence not sent"),
    );
    return { conversation };
  }, agentsOnly),

  "conversation:release": on(ConversationRef, async (ctx, { conversationId }) => {
    const { conversation, previous } = await desk.release(ctx.deps, asAgent(ctx), conversationId);
    ctx.broadcast.transitioned(conversation, previous);
    return { conversation };
  }, agentsOnly),

  "conversation:close": onRole({ customer: Empty, agent: ConversationRef }, async (ctx, input) => {
    const id = desk.targetOf(ctx.actor, input);
    const { conversation, previous } = await desk.close(ctx.deps, ctx.actor, id);
    ctx.broadcast.transitioned(conversation, previous);
    return { conversation };
  }),
};
