/** Agent directory and administration. */
import { Router } from "express";
import { CreateAgent, UpdateAgent } from "../../shared/protocol.js";
import { createAgent, listAgents, updateAgent } from "../desk/agents.js";
import { releaseAllOf } from "../desk/conversations.js";
import { agentOf, requireAgent } from "./auth.js";
import { parse } from "./errors.js";
import type { HttpDeps } from "./types.js";

export function agentRoutes({ deps, broadcast }: HttpDeps): Router {
  const router = Router();
  router.use(requireAgent(deps));

  router.get("/", async (_req, res) => {
    res.json({ agents: await listAgents(deps) });
  });

  router.post("/", async (req, res) => {
    const agent = await createAgent(deps, agentOf(res), parse(CreateAgent, req.body));
    res.status(201).json({ agent });
  });

  router.patch("/:id", async (req, res) => {
    const patch = parse(UpdateAgent, req.body);
    const agent = await updateAgent(deps, agentOf(res), String(req.params.id), patch);
    // a new password signs the agent out everywhere
    if (patch.password !== undefined) broadcast.disconnectAgent(agent.id);
    // a disabled agent is cut off at once, on every instance
    if (agent.disabled) {
      broadcast.disconnectAgent(agent.id);
      for (const r of await releaseAllOf(deps, agent.id)) broadcast.transitioned(r.conversation, r.previous);
    }
    res.json({ agent });
  });

  return router;
}
