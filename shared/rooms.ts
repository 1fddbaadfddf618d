/** Room names: the only place they are built. */
export const rooms = {
  /** Every socket taking part in one conversation: its customer and its assignee. */
  conversation: (conversationId: string) => `conversation:${conversationId}`,
  /** Only the customer sockets of one conversation. */
  customer: (conversationId: string) => `customer:${conversationId}`,
  /** Every socket of one agent, on every instance. */
  agent: (agentId: string) => `agent:${agentId}`,
  /** Every agent socket. */
  agents: "agents",
  /** Every socket of one agent session (one login), for revocation. */
  session: (sessionId: string) => `session:${sessionId}`,
} as const;
