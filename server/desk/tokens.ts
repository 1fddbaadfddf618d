/**
 * Credentials: scrypt password hashes, HMAC-signed expiring agent tokens and random
 * customer tokens of which only a hash is stored. Every comparison is constant-time.
 */
import { createHash, createHmac, randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { promisify } from "node:util";

const scryptAsync = promisify(scrypt) as (pw: string, salt: Buffer, len: number, opts: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };
const KEY_LEN = 32;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, KEY_LEN, SCRYPT);
  return `scrypt$${SCRYPT.N}$${salt.toString("base64url")}$${key.toString("base64url")}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, salt, key] = stored.split("$");
  if (scheme !== "scrypt" || !n || !salt || !key) return false;
  const expected = Buffer.from(key, "base64url");
  const actual = await scryptAsync(password, Buffer.from(salt, "base64url"), expected.length, { ...SCRYPT, N: Number(n) });
  return safeEqual(actual, expected);
}

/** A hash any login attempt for an unknown email is checked against, so timing says nothing. */
export const DUMMY_PASSWORD_HASH = "scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface AgentClaims {
  /** agent id */
  sub: string;
  /** session id, revocable */
  sid: string;
  /** expiry, epoch ms */
  exp: number;
  /** issued at, epoch ms */
  iat?: number;
}

const AGENT_PREFIX = "a.";
const CUSTOMER_PREFIX = "c.";

export function signAgentToken(secret: string, claims: AgentClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const sig = createHmac("sha256", secret).update(payload).digest("base64url");
  return `${AGENT_PREFIX}${payload}.${sig}`;
}

/** The claims of a well-signed, unexpired token; null otherwise. */
export function verifyAgentToken(secret: string, token: unknown, nowMs: number): AgentClaims | null {
  if (typeof token !== "string" || !token.startsWith(AGENT_PREFIX) || token.length > 1024) return null;
  const [payload, sig] = token.slice(AGENT_PREFIX.length).split(".");
  if (!payload || !sig) return null;
  const expected = createHmac("sha256", secret).update(payload).digest();
  if (!safeEqual(Buffer.from(sig, "base64url"), expected)) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as AgentClaims;
    if (typeof claims.sub !== "string" || typeof claims.sid !== "string" || typeof claims.exp !== "number") return null;
    return claims.exp > nowMs ? claims : null;
  } catch {
    return null;
  }
}

/** `c.<conversationId>.<192 random bits>`: names its conversation, proves nothing without the secret. */
export function newCustomerToken(conversationId: string): { token: string; hash: string } {
  const secret = randomBytes(24).toString("base64url");
  return { token: `${CUSTOMER_PREFIX}${conversationId}.${secret}`, hash: sha256(secret) };
}

export function parseCustomerToken(token: unknown): { conversationId: string; secret: string } | null {
  if (typeof token !== "string" || !token.startsWith(CUSTOMER_PREFIX) || token.length > 256) return null;
  const [conversationId, secret] = token.slice(CUSTOMER_PREFIX.length).split(".");
  if (!conversationId || !secret) return null;
  return { conversationId, secret };
}

export function customerSecretMatches(secret: string, storedHash: string): boolean {
  return safeEqual(Buffer.from(sha256(secret), "hex"), Buffer.from(storedHash, "hex"));
}

export const isCustomerToken = (t: unknown) => typeof t === "string" && t.startsWith(CUSTOMER_PREFIX);

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export const newId = (bytes = 9) => randomBytes(bytes).toString("base64url");
