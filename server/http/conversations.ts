/** Starting a conversation (customers) and reading one (its customer or any agent). */
import { Router, type Request } from "express";
import { DeskError } from "../../shared/errors.js";
import { HistoryQuery, StartConversation, type Actor } from "../../shared/protocol.js";
import { authenticateAgent } from "../desk/agents.js";
import { authenticateCustomer, history, startConversation } from "../desk/conversations.js";
import type { DeskDeps } from "../desk/deps.js";
import { isCustomerToken } from "../desk/tokens.js";
import { agentToken } from "./auth.js";
import { parse } from "./errors.js";
import type { HttpDeps } from "./types.js";

async function reader(deps: DeskDeps, req: Request): Promise<Actor> {
  const token = agentToken(req);
  if (!token) throw new DeskError("unauthorized");
  return isCustomerToken(token) ? authenticateCustomer(deps, token) : authenticateAgent(deps, token);
}

const ABANDONED_AFTER_MS = 2 * 60_000;

export function conversationRoutes({ deps, limiter, broadcast }: HttpDeps): Router {
  const router = Router();

  router.post("/", async (req, res) => {
    const input = parse(StartConversation, req.body);
    const address = req.ip ?? "unknown";
    await limiter.consume("start", address);
    // A conversation its customer has left (tab closed, no socket) stops counting after a
    // couple of minutes, so an abandoned chat never locks its address out.
    const isOpen = async (id: string) => {
      const c = await deps.store.getConversation(id);
      if (!c || c.status === "closed") return false;
      return c.customer.online || Date.now() - Date.parse(c.updatedAt) < ABANDONED_AFTER_MS;
    };
    const { conversation, customerToken } = await limiter.caps.startFrom(address, isOpen, () => startConversation(deps, input), (s) => s.conversation.id);
    broadcast.conversationUpdated(conversation);
    void broadcast.queueChanged();
    res.status(201).json({ conversation, customerToken });
  });

  router.get("/:id/messages", async (req, res) => {
    const actor = await reader(deps, req);
    const { afterSeq } = parse(HistoryQuery, req.query);
    res.json(await history(deps, actor, String(req.params.id), afterSeq ?? 0));
  });

  return router;
}
