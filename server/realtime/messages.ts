/** Messages, history and typing. */
import {
  AgentHistory,
  AgentSend,
  AgentTyping,
  CustomerHistory,
  CustomerSend,
  CustomerTyping,
} from "../../shared/protocol.js";
import { rooms } from "../../shared/rooms.js";
import { history, targetOf } from "../desk/conversations.js";
import { checkTyping, postMessage } from "../desk/messages.js";
import { conversationKey } from "../limits.js";
import { onRole, type HandlerTable } from "./handle.js";

export const messageHandlers: HandlerTable = {
  "message:send": onRole({ customer: CustomerSend, agent: AgentSend }, async (ctx, input) => {
    const { socket, deps, actor, broadcast, limiter } = ctx;
    await limiter.consume("message", socket.id);
    const conversationId = targetOf(actor, input);
    await limiter.consume("conversationMessage", conversationKey(conversationId, actor.role));
    const { message, conversation, duplicate } = await postMessage(deps, actor, conversationId, input);
    if (!duplicate) {
      broadcast.messageNew(message, conversation);
      // agents watching the queue see a waiting customer's latest words (assignees get message:new)
      if (conversation.status === "queued") broadcast.conversationUpdated(conversation);
      ctx.metrics.messagesStored.inc();
    }
    return { message };
  }),

  history: onRole({ customer: CustomerHistory, agent: AgentHistory }, async ({ deps, actor }, input) => {
    return history(deps, actor, targetOf(actor, input), input.afterSeq ?? 0);
  }),

  typing: onRole({ customer: CustomerTyping, agent: AgentTyping }, async ({ socket, deps, actor, limiter }, input) => {
    await limiter.consume("typing", socket.id);
    const conversationId = targetOf(actor, input);
    const conversation = await checkTyping(deps, actor, conversationId);
    await limiter.consume("conversationTyping", conversationKey(conversationId, actor.role));
    // the assignee's own room too, as for messages (sharded adapter, just after a claim)
    const others = socket.to(rooms.conversation(conversationId));
    (actor.role === "customer" && conversation.assignee ? others.to(rooms.agent(conversation.assignee.id)) : others).emit("typing", {
      conversationId,
      author: { role: actor.role, name: actor.name },
      isTyping: input.isTyping,
    });
    return {};
  }),
};
