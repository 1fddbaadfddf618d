/** deploy/nginx.conf in front of two instances carries a whole conversation, with polling and with WebSocket. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, call, connectSocket, next, type Client } from "./helpers/desk.js";
import { startInstances, type Instance } from "./helpers/instances.js";
import { startNginx, type NginxHandle } from "./helpers/nginx.js";
import { startRedis, type RedisHandle } from "./helpers/redis.js";

let redis: RedisHandle;
let instances: Instance[] = [];
let nginx: NginxHandle;
const sockets: Client[] = [];

beforeAll(async () => {
  redis = await startRedis();
  instances = await startInstances(2, redis.url);
  nginx = await startNginx(instances.map((i) => i.port));
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await nginx?.stop();
  await Promise.all(instances.map((i) => i.stop()));
  await redis?.stop();
});

describe("behind nginx", () => {
  for (const transport of ["polling", "websocket"] as const) {
    it(`carries a whole conversation with the ${transport} transport`, async () => {
      const base = nginx.url;
      const started = await api(base, "/api/conversations", { body: { name: `Via ${transport}`, message: "hello through nginx" } });
      expect(started.status).toBe(201);
      const { conversation, customerToken } = started.body;
      const session = await api(base, "/api/auth/login", { body: { email: "admin@example.com", password: "admin-password-1" } });
      const opts = { transports: [transport], upgrade: false };
      const customer = await connectSocket(base, { customerToken }, opts);
      // the agent connects straight to the second instance: the desk is one across both
      const agent = await connectSocket(instances[1]!.url, { agentToken: session.body.token }, opts);
      sockets.push(customer, agent);
      expect(customer.io.engine.transport.name).toBe(transport);

      const assigned = next(customer, "conversation:updated", (c) => c.status === "assigned");
      expect((await call(agent, "conversation:claim", { conversationId: conversation.id })).ok).toBe(true);
      await assigned;
      const atAgent = next(agent, "message:new", (m) => m.conversationId === conversation.id);
      await call(customer, "message:send", { clientId: `${transport}-1`, body: "customer says hi" });
      expect((await atAgent).body).toBe("customer says hi");
      const atCustomer = next(customer, "message:new", (m) => m.author.role === "agent");
      await call(agent, "message:send", { conversationId: conversation.id, clientId: `${transport}-2`, body: "agent answers" });
      expect((await atCustomer).body).toBe("agent answers");
      const typing = next(agent, "typing");
      await call(customer, "typing", { isTyping: true });
      expect((await typing).isTyping).toBe(true);
      const closed = next(customer, "conversation:updated", (c) => c.status === "closed");
      await call(agent, "conversation:close", { conversationId: conversation.id });
      await closed;
      const hist: any = await call(customer, "history", {});
      expect(hist.messages.map((m: any) => m.seq)).toEqual([1, 2, 3]);
    });
  }

  it("serves /metrics to the operator network (loopback)", async () => {
    const res = await fetch(`${nginx.url}/metrics`);
    expect(res.status).toBe(200);
  });
});
