/**
 * The bare Socket.IO baseline the desk is measured against: the same Socket.IO server
 * options, the same Redis adapter on the same kind of Redis, and the same wire shapes —
 * but no authentication, no validation, no persistence. A customer's handshake names its
 * room; `message:send` broadcasts a Message-shaped payload to the room and acknowledges;
 * `conversation:claim` is one Redis `SET NX` (the bare equivalent of an atomic claim).
 *
 * Env: PORT, REDIS_URL (optional: in-memory adapter without it).
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createAdapter } from "@socket.io/redis-adapter";
import { createClient } from "redis";
import { Server } from "socket.io";
import { LIMITS } from "../shared/protocol.js";
import { rooms } from "../shared/rooms.js";

type Ack = (res: unknown) => void;
const port = Number(process.env.PORT ?? 3100);
const redisUrl = process.env.REDIS_URL || undefined;

const http = createServer((req, res) => {
  const ok = req.url === "/healthz" || req.url === "/readyz";
  res.writeHead(ok ? 200 : 404, { "content-type": "application/json" });
  res.end(ok ? '{"status":"ok"}' : '{"error":{"code":"not_found","message":"Not found"}}');
});
const io = new Server(http, { maxHttpBufferSize: LIMITS.socketFrame });

let claimOnce: (key: string, owner: string) => Promise<boolean>;
const closers: (() => Promise<unknown>)[] = [];
if (redisUrl) {
  const pub = createClient({ url: redisUrl });
  const sub = pub.duplicate();
  const cmd = pub.duplicate();
  await Promise.all([pub.connect(), sub.connect(), cmd.connect()]);
  io.adapter(createAdapter(pub, sub));
  claimOnce = async (key, owner) => (await cmd.set(key, owner, { condition: "NX" })) === "OK";
  closers.push(() => pub.quit(), () => sub.quit(), () => cmd.quit());
} else {
  const claimed = new Set<string>();
  claimOnce = async (key) => !claimed.has(key) && Boolean(claimed.add(key));
}

let counter = 0;
const id = () => `${randomBytes(6).toString("base64url")}${(++counter).toString(36)}`;

io.on("connection", (socket) => {
  const auth = (socket.handshake.auth ?? {}) as { conversationId?: string; agentId?: string };
  const agentId = auth.agentId;
  const own = auth.conversationId;
  if (own) socket.join([rooms.conversation(own), rooms.customer(own)]);
  if (agentId) socket.join([rooms.agents, rooms.agent(agentId)]);

  socket.on("message:send", (payload: { conversationId?: string; clientId: string; body: string }, ack?: Ack) => {
    const conversationId = own ?? payload.conversationId ?? "";
    const now = new Date().toISOString();
    const message = {
      id: id(),
      conversationId,
      seq: ++counter,
      clientId: payload.clientId,
      author: own ? { role: "customer", name: "Customer" } : { role: "agent", id: agentId, name: "Agent" },
      body: payload.body,
      createdAt: now,
    };
    io.to(rooms.conversation(conversationId)).emit("message:new", message);
    ack?.({ ok: true, message });
  });

  socket.on("conversation:claim", (payload: { conversationId: string }, ack?: Ack) => {
    const conversationId = payload.conversationId;
    claimOnce(`claim:{${conversationId}}`, agentId ?? socket.id).then(
      (won) => {
        if (!won) return ack?.({ ok: false, error: { code: "already_claimed", message: "Already claimed." } });
        socket.join(rooms.conversation(conversationId));
        const now = new Date().toISOString();
        const conversation = {
          id: conversationId,
          status: "assigned",
          customer: { name: "Customer", online: true },
          assignee: { id: agentId, name: "Agent" },
          createdAt: now,
          updatedAt: now,
          lastSeq: 0,
        };
        io.to(rooms.conversation(conversationId)).to(rooms.agents).emit("conversation:updated", conversation);
        ack?.({ ok: true, conversation });
      },
      () => ack?.({ ok: false, error: { code: "internal", message: "Redis failed." } }),
    );
  });
});

http.listen(port, "127.0.0.1");

const shutdown = async () => {
  io.close();
  await Promise.allSettled(closers.map((c) => c()));
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
