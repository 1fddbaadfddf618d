/** Presence: a socket's arrival and departure, the agent's own switch, the heartbeat. */
import { PresenceSet } from "../../shared/protocol.js";
import { DeskError } from "../../shared/errors.js";
import { heartbeat, personOf, setAgentStatus, socketConnected, socketDisconnected } from "../desk/presence.js";
import type { DeskDeps } from "../desk/deps.js";
import type { Logger } from "../log.js";
import type { Broadcaster } from "./broadcast.js";
import { handle } from "./handle.js";
import type { DeskServer, HandlerContext } from "./types.js";

export function registerPresenceHandlers(ctx: HandlerContext): void {
  const { socket, deps, actor, broadcast, log } = ctx;

  socketConnected(deps, actor, socket.id)
    .then((change) => change && broadcast.presence(change))
    .catch((err) => log.warn({ err }, "presence join failed"));

  socket.on("disconnect", () => {
    ctx.inflight.run(() => socketDisconnected(deps, actor, socket.id)).catch((err) => log.warn({ err }, "presence leave failed"));
  });

  socket.on("presence:set", handle(ctx, "presence:set", PresenceSet, async ({ status }) => {
    if (actor.role !== "agent") throw new DeskError("forbidden", "Only agents set their presence.");
    await broadcast.presence(await setAgentStatus(deps, actor, status));
    return {};
  }, { only: "agent" }));
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
