/** What the fuzzer aims at: every client→server event (with a valid payload to mutate) and every HTTP endpoint. */
import { ADMIN } from "../helpers/desk.js";
import { NASTY_STRINGS, randomObject, randomString, randomValue, type Rng } from "./generate.js";

export type Role = "customer" | "agent" | "admin";

/** A valid payload for each protocol event, by role; the fuzzer mutates these. */
export function validPayload(event: string, role: Role, conversationId: string, r: Rng): Record<string, unknown> {
  const customer = role === "customer";
  const target = customer ? {} : { conversationId };
  switch (event) {
    case "message:send":
      return { ...target, clientId: `fz-${r.int(1e9)}`, body: randomString(r, 500) || "hello" };
    case "typing":
      return { ...target, isTyping: r.chance(0.5) };
    case "history":
      return { ...target, afterSeq: r.int(5) };
    case "conversation:list":
      return { mine: r.chance(0.5), status: r.pick(["queued", "assigned", "closed"]) };
    case "conversation:claim":
    case "conversation:release":
    case "cobrowse:request":
    case "cobrowse:resync":
      return { conversationId };
    case "conversation:close":
    case "cobrowse:stop":
      return target;
    case "presence:set":
      return { status: r.pick(["online", "away"]) };
    case "cobrowse:answer":
      return { allow: r.chance(0.5) };
    case "cobrowse:events":
      return { events: [{ type: 2, data: { node: randomObject(r) }, timestamp: Date.now() }] };
    case "cobrowse:highlight":
      return { conversationId, nodeId: r.int(100) };
    default:
      return {};
  }
}

/** Every client→server event of the protocol (SPEC sections 3 and 8). */
export const PROTOCOL_EVENTS = [
  "message:send",
  "typing",
  "history",
  "queue:list",
  "conversation:list",
  "conversation:claim",
  "conversation:release",
  "conversation:close",
  "presence:set",
  "cobrowse:request",
  "cobrowse:answer",
  "cobrowse:events",
  "cobrowse:highlight",
  "cobrowse:stop",
  "cobrowse:resync",
];

export interface HttpTarget {
  method: string;
  path: string;
  /** Credentials a fuzzed call may carry (never real ones where they would revoke or change the fuzzer's own accounts). */
  auth: "any" | "garbage";
  body?: (r: Rng) => unknown;
}

export const HTTP_TARGETS: HttpTarget[] = [
  { method: "GET", path: "/healthz", auth: "any" },
  { method: "GET", path: "/readyz", auth: "any" },
  { method: "GET", path: "/metrics", auth: "any" },
  {
    method: "POST",
    path: "/api/conversations",
    auth: "any",
    body: (r) => ({ name: randomString(r, 100) || "n", message: randomString(r, 300) || "m", email: r.chance(0.3) ? "a@b.co" : undefined, topic: r.chance(0.3) ? randomString(r, 150) : undefined }),
  },
  { method: "POST", path: "/api/auth/login", auth: "any", body: (r) => ({ email: r.chance(0.5) ? ADMIN.email : randomString(r, 60), password: randomString(r, 60) }) },
  // real tokens would revoke the fuzzer's own sessions
  { method: "POST", path: "/api/auth/logout", auth: "garbage" },
  { method: "GET", path: "/api/me", auth: "any" },
  { method: "GET", path: "/api/agents", auth: "any" },
  { method: "POST", path: "/api/agents", auth: "any", body: (r) => ({ email: `fz${r.int(1e9)}@example.com`, name: randomString(r, 90) || "n", password: randomString(r, 40), role: r.pick(["agent", "admin", "root"]) }) },
  // ids are random, so no real agent is disabled or has its password changed
  { method: "PATCH", path: "/api/agents/:random", auth: "any", body: (r) => ({ name: randomString(r, 90), disabled: r.chance(0.5), password: randomString(r, 20) }) },
  { method: "GET", path: "/api/conversations/:conversation/messages", auth: "any" },
];

/** A path parameter: the fuzzer's conversation, another one, or something odd. */
export function pathParam(r: Rng, conversationId: string, other: string): string {
  switch (r.int(6)) {
    case 0:
      return conversationId;
    case 1:
      return other;
    case 2:
      return r.pick(["%", "%ZZ", "%00", "..", "%2e%2e%2f%2e%2e", "__proto__", "constructor", "a".repeat(3000), "%F0%9F%98%80", "%C0%AF"]);
    default:
      return encode(randomString(r, 80)) || "x";
  }
}

export function randomQuery(r: Rng): string {
  const parts: string[] = [];
  const n = r.int(4);
  for (let i = 0; i < n; i++) {
    const key = r.pick(["afterSeq", "afterSeq[]", "afterSeq[$gt]", "__proto__[polluted]", "constructor[prototype][polluted]", "x"]);
    const value = r.chance(0.5) ? String(r.pick([0, -1, 1.5, 1e309, 2 ** 53, "abc", ""])) : r.pick(NASTY_STRINGS);
    parts.push(`${encode(key).replace(/%5B/g, "[").replace(/%5D/g, "]")}=${encode(value)}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** encodeURIComponent, with lone surrogates (which it refuses) sent as `%ED%A0%80`-style bytes. */
const encode = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.replace(/[\uD800-\uDFFF]/g, "").split("").map((c) => encodeURIComponent(c)).join("") + "%ED%A0%80";
  }
};

/** A request body: JSON of the target's shape or of anything, or bytes that are not JSON at all. */
export function randomBody(r: Rng, target: HttpTarget): { body?: string | Buffer; headers: Record<string, string> } {
  const json = { "content-type": "application/json" };
  switch (r.int(8)) {
    case 0:
      return { body: JSON.stringify(randomValue(r) ?? null), headers: json };
    case 1:
      return { body: randomString(r, 3000), headers: json };
    case 2:
      return { body: JSON.stringify({ pad: "p".repeat(17 * 1024) }), headers: json };
    case 3:
      return { body: JSON.stringify(randomObject(r)), headers: r.pick([json, { "content-type": "text/plain" }, { "content-type": "application/x-www-form-urlencoded" }]) };
    case 4:
      return { body: Buffer.from(randomString(r, 200)), headers: { ...json, "content-encoding": r.pick(["gzip", "deflate", "br", "identity", "zstd"]) } };
    case 5:
      return { body: '{"name":"a","message":"b"}', headers: { "content-type": r.pick(["application/json; charset=utf-16", "application/json; charset=latin1", "application/json;;", "application/json; charset=\u00ff"]) } };
    default: {
      const base = target.body?.(r) ?? {};
      return { body: JSON.stringify(base), headers: json };
    }
  }
}
