/** Unit tests of the domain functions and credentials, on the memory store, without sockets. */
import { describe, expect, it } from "vitest";
import { loadConfig, parseRateLimits } from "../server/config.js";
import { authenticateAgent, createAgent, ensureAdmin, login, logout } from "../server/desk/agents.js";
import { authenticateCustomer, claim, close, history, queuePositions, release, startConversation } from "../server/desk/conversations.js";
import type { DeskDeps } from "../server/desk/deps.js";
import { postMessage } from "../server/desk/messages.js";
import { heartbeat, socketConnected, socketDisconnected } from "../server/desk/presence.js";
import { hashPassword, newCustomerToken, parseCustomerToken, signAgentToken, verifyAgentToken, verifyPassword } from "../server/desk/tokens.js";
import { MemoryStore } from "../server/store/memory.js";
import { DeskError } from "../shared/errors.js";
import { testConfig } from "./helpers/desk.js";

function deps(): DeskDeps {
  return { store: new MemoryStore(), config: testConfig(), now: () => new Date() };
}

const expectCode = async (p: Promise<unknown>, code: string) => {
  await expect(p).rejects.toBeInstanceOf(DeskError);
  await expect(p).rejects.toMatchObject({ code });
};

describe("credentials", () => {
  it("hashes passwords with a salt and verifies only the right one", async () => {
    const [h1, h2] = await Promise.all([hashPassword("correct horse"), hashPassword("correct horse")]);
    expect(h1).not.toBe(h2);
    expect(h1).toMatch(/^scrypt\$16384\$/);
    expect(await verifyPassword("correct horse", h1)).toBe(true);
    expect(await verifyPassword("wrong horse", h1)).toBe(false);
    expect(await verifyPassword("x", "garbage")).toBe(false);
  });

  it("accepts an agent token only with the right secret and before it expires", () => {
    const token = signAgentToken("s1", { sub: "a", sid: "s", exp: 2000 });
    expect(verifyAgentToken("s1", token, 1000)).toEqual({ sub: "a", sid: "s", exp: 2000 });
    expect(verifyAgentToken("s2", token, 1000)).toBeNull();
    expect(verifyAgentToken("s1", token, 3000)).toBeNull();
    const [, payload, sig] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "admin", sid: "s", exp: 9e15 })).toString("base64url");
    expect(verifyAgentToken("s1", `a.${forged}.${sig}`, 1000)).toBeNull();
    expect(verifyAgentToken("s1", `a.${payload}`, 1000)).toBeNull();
    expect(verifyAgentToken("s1", 42, 1000)).toBeNull();
  });

  it("makes customer tokens with 192 random bits that name their conversation", () => {
    const { token, hash } = newCustomerToken("conv1");
    const parsed = parseCustomerToken(token)!;
    expect(parsed.conversationId).toBe("conv1");
    expect(Buffer.from(parsed.secret, "base64url")).toHaveLength(24);
    expect(hash).not.toContain(parsed.secret);
    expect(parseCustomerToken("a.b.c")).toBeNull();
  });
});

describe("config", () => {
  it("parses DESK_RATE_LIMITS overrides and off", () => {
    expect(parseRateLimits(undefined)).toMatchObject({ enabled: true, messagePerSecond: 10, messageBurst: 20, typingPerSecond: 5, startsPerMinute: 20, failedLogins: 10 });
    expect(parseRateLimits("off").enabled).toBe(false);
    expect(parseRateLimits("message=5/8,logins=3")).toMatchObject({ messagePerSecond: 5, messageBurst: 8, failedLogins: 3 });
    expect(() => parseRateLimits("message=abc")).toThrow(/DESK_RATE_LIMITS/);
    expect(() => parseRateLimits("bogus=1")).toThrow(/unknown/);
  });

  it("keeps SPEC defaults for every timeout", () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.presenceGraceMs + c.presenceHeartbeatMs).toBeLessThanOrEqual(30_000);
    expect(c.presenceTtlMs + c.presenceHeartbeatMs).toBeLessThanOrEqual(30_000);
    expect(c.shutdownTimeoutMs).toBeLessThan(10_000);
    expect(c.secretGenerated).toBe(true);
  });
});

describe("conversations and messages", () => {
  it("runs a conversation through queue, claim, messages, release and close", async () => {
    const d = deps();
    const admin = await ensureAdmin(d, "boss@example.com", "boss-password");
    const bossActor = await authenticateAgent(d, (await login(d, "boss@example.com", "boss-password")).token);
    await createAgent(d, bossActor, { email: "sam@example.com", name: "Sam", password: "sam-password" });
    const sam = await authenticateAgent(d, (await login(d, "sam@example.com", "sam-password")).token);
    expect(admin.role).toBe("admin");

    const started = await startConversation(d, { name: "Ada", message: "hi" });
    const ada = await authenticateCustomer(d, started.customerToken);
    expect(await queuePositions(d)).toEqual([{ conversationId: started.conversation.id, position: 1 }]);

    await expectCode(postMessage(d, sam, ada.conversationId, { clientId: "x", body: "not yet" }), "forbidden");
    const claimed = await claim(d, sam, ada.conversationId);
    expect(claimed.previous.status).toBe("queued");
    await expectCode(claim(d, bossActor, ada.conversationId), "already_claimed");
    expect(await queuePositions(d)).toEqual([]);

    const m = await postMessage(d, ada, ada.conversationId, { clientId: "c1", body: "help" });
    expect(m).toMatchObject({ duplicate: false, message: { seq: 2 } });
    expect((await postMessage(d, ada, ada.conversationId, { clientId: "c1", body: "help" })).duplicate).toBe(true);
    await expectCode(postMessage(d, ada, "someone-else", { clientId: "c2", body: "x" }), "forbidden");

    expect((await release(d, sam, ada.conversationId)).conversation.status).toBe("queued");
    await claim(d, sam, ada.conversationId);
    expect((await close(d, ada, "ignored-for-customers")).conversation.status).toBe("closed");
    await expectCode(postMessage(d, ada, ada.conversationId, { clientId: "c3", body: "late" }), "conversation_closed");
    const h = await history(d, ada, ada.conversationId, 1);
    expect(h.messages.map((x) => x.seq)).toEqual([2]);
  });

  it("refuses a logged-out or disabled agent's token", async () => {
    const d = deps();
    await ensureAdmin(d, "boss@example.com", "boss-password");
    const { token } = await login(d, "boss@example.com", "boss-password");
    await logout(d, token);
    await expectCode(authenticateAgent(d, token), "unauthorized");
    await expectCode(login(d, "boss@example.com", "wrong"), "unauthorized");
  });
});

describe("presence", () => {
  it("announces a person online on its first socket and offline once its last socket's grace ends", async () => {
    const d = deps();
    const started = await startConversation(d, { name: "Ada", message: "hi" });
    const ada = await authenticateCustomer(d, started.customerToken);
    const first = await socketConnected(d, ada, "s1");
    expect(first?.event).toMatchObject({ role: "customer", status: "online", conversationId: ada.conversationId });
    expect(first?.conversation?.customer.online).toBe(true);
    expect(await socketConnected(d, ada, "s2")).toBeNull();
    await socketDisconnected(d, ada, "s1");
    await socketDisconnected(d, ada, "s2");
    expect(await heartbeat(d, [])).toEqual([]); // still within grace
    await new Promise((r) => setTimeout(r, d.config.presenceGraceMs + 20)); // the grace itself is the behaviour under test
    const gone = await heartbeat(d, []);
    expect(gone.map((c) => c.event.status)).toEqual(["offline"]);
    expect(gone[0]?.conversation?.customer.online).toBe(false);
  });
});
