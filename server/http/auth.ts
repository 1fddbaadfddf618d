/** Agent login, logout, identity; the middleware that puts the agent on the request. */
import { Router, type Request, type RequestHandler } from "express";
import { DeskError } from "../../shared/errors.js";
import { Login } from "../../shared/protocol.js";
import { authenticateAgent, getAgent, login, logout, type AgentActor } from "../desk/agents.js";
import { releaseAllOf } from "../desk/conversations.js";
import type { DeskDeps } from "../desk/deps.js";
import { clearedSessionCookie, readCookie, sameOriginOrNone, SESSION_COOKIE, sessionCookie } from "../cookies.js";
import { parse } from "./errors.js";
import type { HttpDeps } from "./types.js";

export function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  return undefined;
}

/** A bearer token, or the session cookie when the request comes from the desk's own pages. */
export const agentToken = (req: Request) =>
  bearer(req) ?? (sameOriginOrNone(req.headers) ? readCookie(req.headers.cookie, SESSION_COOKIE) : undefined);

/** Authenticates an agent by bearer token or session cookie; `res.locals.agent` holds it. */
export function requireAgent(deps: DeskDeps): RequestHandler {
  return async (req, res, next) => {
    res.locals.agent = await authenticateAgent(deps, agentToken(req));
    next();
  };
}

export const agentOf = (res: { locals: Record<string, unknown> }) => res.locals.agent as AgentActor;

export function authRoutes({ deps, limiter, broadcast }: HttpDeps): Router {
  const router = Router();

  router.post("/login", async (req, res) => {
    const { email, password } = parse(Login, req.body);
    const address = req.ip ?? "unknown";
    const account = email.toLowerCase();
    // Take the points before checking the password, so that parallel guesses cannot all
    // slip past a check; a right password gives them back.
    await limiter.consume("loginAddress", address);
    await limiter.consume("loginAccount", account).catch(async (err: unknown) => {
      await limiter.refund("loginAddress", address);
      throw err;
    });
    try {
      const session = await login(deps, email, password);
      await Promise.all([limiter.refund("loginAddress", address), limiter.reset("loginAccount", account)]);
      res.setHeader("Set-Cookie", sessionCookie(session.token, deps.config.agentTokenTtlMs, req.secure));
      res.json({ agent: session.agent, token: session.token, expiresAt: new Date(session.expiresAt).toISOString() });
    } catch (err) {
      // only a wrong password counts against the limits
      if (!(err instanceof DeskError && err.code === "unauthorized")) {
        await Promise.all([limiter.refund("loginAddress", address), limiter.refund("loginAccount", account)]);
      }
      throw err;
    }
  });

  router.post("/logout", async (req, res) => {
    const token = agentToken(req);
    const agent = await authenticateAgent(deps, token).catch(() => null);
    const sessionId = await logout(deps, token);
    if (sessionId) broadcast.disconnectSession(sessionId);
    // nobody answers those customers now: their conversations go back to the queue
    if (agent) for (const r of await releaseAllOf(deps, agent.agentId)) broadcast.transitioned(r.conversation, r.previous);
    res.setHeader("Set-Cookie", clearedSessionCookie());
    res.status(204).end();
  });

  return router;
}

export function meRoutes({ deps }: HttpDeps): Router {
  const router = Router();
  router.get("/", requireAgent(deps), async (_req, res) => {
    res.json({ agent: await getAgent(deps, agentOf(res).agentId) });
  });
  return router;
}
