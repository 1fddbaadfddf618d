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
import { byRole, handle } from "./handle.js";
import type { HandlerContext } from "./types.js";

const idOf = (input: object) => ("conversationId" in input ? (input.conversationId as string) : undefined);

export function registerMessageHandlers(ctx: HandlerContext): void {
  const { socket, deps, actor, broadcast, limiter } = ctx;

  socket.on("message:send", handle(ctx, "message:send", byRole(ctx, CustomerSend, AgentSend), async (input) => {
    await limiter.consume("message", socket.id);
    const conversationId = targetOf(actor, idOf(input));
    await limiter.consume("conversationMessage", conversationKey(conversationId, actor.role));
    const { message, conversation, duplicate } = await postMessage(deps, actor, conversationId, input);
    if (!duplicate) {
      broadcast.messageNew(message);
      // agents watching the queue see a waiting customer's latest words (assignees get message:new)
      if (conversation.status === "queued") broadcast.conversationUpdated(conversation);
      ctx.metrics.messagesStored.inc();
    }
    return { message };
  }));

  socket.on("history", handle(ctx, "history", byRole(ctx, CustomerHistory, AgentHistory), async (input) => {
    return history(deps, actor, targetOf(actor, idOf(input)), input.afterSeq ?? 0);
  }));

  socket.on("typing", handle(ctx, "typing", byRole(ctx, CustomerTyping, AgentTyping), async (input) => {
    await limiter.consume("typing", socket.id);
    const conversationId = targetOf(actor, idOf(input));
    await checkTyping(deps, actor, conversationId);
    await limiter.consume("conversationTyping", conversationKey(conversationId, actor.role));
    socket.to(rooms.conversation(conversationId)).emit("typing", {
      conversationId,
      author: { role: actor.role, name: actor.name },
      isTyping: input.isTyping,
    });
    return {};
  }));
}
