/** Presence: a socket's arrival and departure, the agent's own switch, the heartbeat. */
import { PresenceSet } from "../../shared/protocol.js";
import { heartbeat, personOf, setAgentStatus, socketConnected, socketDisconnected } from "../desk/presence.js";
import type { DeskDeps } from "../desk/deps.js";
import type { Logger } from "../log.js";
import type { Broadcaster } from "./broadcast.js";
import { agentsOnly, asAgent, on, type HandlerTable } from "./handle.js";
import type { DeskServer, HandlerContext } from "./types.js";

export const presenceHandlers: HandlerTable = {
  "presence:set": on(PresenceSet, async (ctx, { status }) => {
    await ctx.broadcast.presence(await setAgentStatus(ctx.deps, asAgent(ctx), status));
    return {};
  }, agentsOnly),
};

/** A socket arrived: its person may have come online. */
export function presenceOnConnect({ socket, deps, actor, broadcast, log }: HandlerContext): void {
  socketConnected(deps, actor, socket.id)
    .then((change) => change && broadcast.presence(change))
    .catch((err) => log.warn({ err }, "presence join failed"));
}

/** A socket left: its person stays online for the grace period, then the sweep decides. */
export function presenceOnDisconnect({ socket, deps, actor, inflight, log }: HandlerContext): void {
  inflight.run(() => socketDisconnected(deps, actor, socket.id)).catch((err) => log.warn({ err }, "presence leave failed"));
}

/** Every instance refreshes its own sockets and sweeps everybody's expired ones. */
export function startPresenceHeartbeat(io: DeskServer, deps: DeskDeps, broadcast: Broadcaster, log: Logger): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const local = [...io.of("/").sockets.values()]
        .filter((s) => s.data.actor)
        .map((s) => ({ person: personOf(s.data.actor), socketId: s.id }));
      for (const change of await heartbeat(deps, local)) await broadcast.presence(change);
    } catch (err) {
      log.warn({ err }, "presence heartbeat failed");
    } finally {
      running = false;
    }
  }, deps.config.presenceHeartbeatMs);
  timer.unref();
  return () => clearInterval(timer);
}
