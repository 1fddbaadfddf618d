/** Agent accounts, logins and sessions. */
import { DeskError } from "../../shared/errors.js";
import type { Agent, CreateAgentInput } from "../../shared/protocol.js";
import { publicAgent, type AgentRecord } from "../store/store.js";
import { isoNow, type DeskDeps } from "./deps.js";
import { agentPerson } from "./presence.js";
import { DUMMY_PASSWORD_HASH, hashPassword, newId, signAgentToken, verifyAgentToken, verifyPassword } from "./tokens.js";

export type { AgentActor } from "../../shared/protocol.js";
import type { AgentActor } from "../../shared/protocol.js";

/** Creates or updates the admin named by DESK_ADMIN_EMAIL / DESK_ADMIN_PASSWORD. */
export async function ensureAdmin(deps: DeskDeps, email: string, password: string, name?: string): Promise<Agent> {
  const record: AgentRecord = {
    id: newId(),
    email: email.toLowerCase(),
    name: name ?? "Admin",
    role: "admin",
    passwordHash: await hashPassword(password),
    createdAt: isoNow(deps),
  };
  const existing = await deps.store.getAgentByEmail(email);
  // a name given before survives restarts unless DESK_ADMIN_NAME says otherwise
  if (existing && name === undefined) record.name = existing.name;
  // a restart with the same password keeps the admin's sessions; a new one ends them
  if (existing && !(await verifyPassword(password, existing.passwordHash))) record.sessionsValidAfter = deps.now().getTime();
  return publicAgent(await deps.store.upsertAgent(record));
}

export async function createAgent(deps: DeskDeps, actor: AgentActor, input: CreateAgentInput): Promise<Agent> {
  if (!actor.isAdmin) throw new DeskError("forbidden", "Only an admin can create agents.");
  const result = await deps.store.createAgent({
    id: newId(),
    email: input.email.toLowerCase(),
    name: input.name,
    role: input.role ?? "agent",
    passwordHash: await hashPassword(input.password),
    createdAt: isoNow(deps),
  });
  if (!result.ok) throw new DeskError("conflict", "An agent with this email already exists.");
  return publicAgent(result.agent);
}

export async function updateAgent(
  deps: DeskDeps,
  actor: AgentActor,
  id: string,
  patch: { name?: string; password?: string; disabled?: boolean },
): Promise<Agent> {
  if (!actor.isAdmin) throw new DeskError("forbidden", "Only an admin can change agents.");
  if (patch.disabled && id === actor.agentId) throw new DeskError("forbidden", "An admin cannot disable itself.");
  const updated = await deps.store.updateAgent(id, {
    ...(patch.name !== undefined && { name: patch.name }),
    ...(patch.disabled !== undefined && { disabled: patch.disabled }),
    // a new password ends every session signed in with the old one
    ...(patch.password !== undefined && { passwordHash: await hashPassword(patch.password), sessionsValidAfter: deps.now().getTime() }),
  });
  if (!updated) throw new DeskError("not_found", "No such agent.");
  return publicAgent(updated);
}

/** Checks a password; the same work is done for unknown emails, so timing tells nothing. */
export async function login(deps: DeskDeps, email: string, password: string): Promise<{ agent: Agent; token: string; expiresAt: number }> {
  const record = await deps.store.getAgentByEmail(email);
  const ok = await verifyPassword(password, record?.passwordHash ?? DUMMY_PASSWORD_HASH);
  if (!record || !ok || record.disabled) throw new DeskError("unauthorized", "Wrong email or password.");
  const expiresAt = deps.now().getTime() + deps.config.agentTokenTtlMs;
  const token = signAgentToken(deps.config.secret, { sub: record.id, sid: newId(12), exp: expiresAt, iat: deps.now().getTime() });
  return { agent: publicAgent(record), token, expiresAt };
}

/** The actor behind an agent token, or `unauthorized`. */
export async function authenticateAgent(deps: DeskDeps, token: unknown): Promise<AgentActor> {
  const claims = verifyAgentToken(deps.config.secret, token, deps.now().getTime());
  if (!claims) throw new DeskError("unauthorized");
  const [record, revoked] = await Promise.all([deps.store.getAgent(claims.sub), deps.store.isSessionRevoked(claims.sid)]);
  if (!record || record.disabled || revoked) throw new DeskError("unauthorized");
  if (record.sessionsValidAfter !== undefined && (claims.iat ?? 0) < record.sessionsValidAfter) throw new DeskError("unauthorized");
  return { role: "agent", agentId: record.id, name: record.name, isAdmin: record.role === "admin", sessionId: claims.sid };
}

/** Revokes the session of a token (logout). Returns its session id, or null for a bad token. */
export async function logout(deps: DeskDeps, token: unknown): Promise<string | null> {
  const claims = verifyAgentToken(deps.config.secret, token, deps.now().getTime());
  if (!claims) return null;
  await deps.store.revokeSession(claims.sid, claims.exp);
  return claims.sid;
}

export async function getAgent(deps: DeskDeps, id: string): Promise<Agent> {
  const record = await deps.store.getAgent(id);
  if (!record) throw new DeskError("not_found", "No such agent.");
  return { ...publicAgent(record), presence: await deps.store.getPresenceStatus(agentPerson(id)) };
}

export async function listAgents(deps: DeskDeps): Promise<Agent[]> {
  const records = await deps.store.listAgents();
  return Promise.all(
    records.map(async (r) => ({ ...publicAgent(r), presence: await deps.store.getPresenceStatus(agentPerson(r.id)) })),
  );
}
