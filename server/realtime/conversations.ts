/** Queue and conversation lifecycle events. */
import { DeskError } from "../../shared/errors.js";
import { ConversationList, ConversationRef, Empty } from "../../shared/protocol.js";
import * as desk from "../desk/conversations.js";
import type { Conversation } from "../../shared/protocol.js";
import { byRole, handle } from "./handle.js";
import type { HandlerContext } from "./types.js";

export function registerConversationHandlers(ctx: HandlerContext): void {
  const { socket, deps, actor, broadcast } = ctx;
  const agent = () => {
    if (actor.role !== "agent") throw new DeskError("forbidden", "Only agents can do this.");
    return actor;
  };
  const agentsOnly = { only: "agent" } as const;
  const announce = (conversation: Conversation, previous: Conversation) => {
    broadcast.conversationUpdated(conversation);
    if (conversation.status === "queued" || previous.status === "queued") void broadcast.queueChanged();
  };

  socket.on("queue:list", handle(ctx, "queue:list", Empty, async () => {
    agent();
    return { conversations: await desk.listQueue(deps) };
  }, agentsOnly));

  socket.on("conversation:list", handle(ctx, "conversation:list", ConversationList, async (input) => {
    return { conversations: await desk.listConversations(deps, agent(), input) };
  }, agentsOnly));

  socket.on("conversation:claim", handle(ctx, "conversation:claim", ConversationRef, async ({ conversationId }) => {
    const me = agent();
    const { conversation, previous } = await desk.claim(deps, me, conversationId);
    broadcast.joinAssignee(me.agentId, conversationId);
    announce(conversation, previous);
    const status = await deps.store.getPresenceStatus(`agent:${me.agentId}`);
    void broadcast.presence({ event: { role: "agent", id: me.agentId, name: me.name, status } });
    return { conversation };
  }, agentsOnly));

  socket.on("conversation:release", handle(ctx, "conversation:release", ConversationRef, async ({ conversationId }) => {
    const { conversation, previous } = await desk.release(deps, agent(), conversationId);
    announce(conversation, previous);
    if (previous.assignee) broadcast.leaveAssignee(previous.assignee.id, conversationId);
    return { conversation };
  }, agentsOnly));

  socket.on("conversation:close", handle(ctx, "conversation:close", byRole(ctx, Empty, ConversationRef), async (input) => {
    const id = desk.targetOf(actor, "conversationId" in input ? input.conversationId : undefined);
    const { conversation, previous } = await desk.close(deps, actor, id);
    announce(conversation, previous);
    if (previous.assignee) broadcast.leaveAssignee(previous.assignee.id, id);
    return { conversation };
  }));
}
