/**
 * Presence aggregated over every socket of a person on every instance. Each socket
 * entry lives until a heartbeat deadline; a closed socket keeps a short grace (page
 * reloads) and a crashed instance's sockets simply expire. Whichever instance sweeps
 * first announces the person offline, exactly once.
 */
import type { Actor, AgentActor, Conversation, PresenceEvent, PresenceStatus } from "../../shared/protocol.js";
import type { PersonKey } from "../store/store.js";
import type { DeskDeps } from "./deps.js";

export const agentPerson = (agentId: string): PersonKey => `agent:${agentId}`;
export const customerPerson = (conversationId: string): PersonKey => `customer:${conversationId}`;
export const personOf = (actor: Actor): PersonKey =>
  actor.role === "agent" ? agentPerson(actor.agentId) : customerPerson(actor.conversationId);

/** A presence change to announce, and the conversation whose `customer.online` it changed. */
export interface PresenceChange {
  event: PresenceEvent;
  conversation?: Conversation;
}

function parsePerson(person: PersonKey): { role: "agent" | "customer"; id: string } | null {
  const i = person.indexOf(":");
  const role = person.slice(0, i);
  if (role !== "agent" && role !== "customer") return null;
  return { role, id: person.slice(i + 1) };
}

async function change(deps: DeskDeps, person: PersonKey, status: PresenceStatus, knownName?: string): Promise<PresenceChange | null> {
  const who = parsePerson(person);
  if (!who) return null;
  if (who.role === "agent") {
    const name = knownName ?? (await deps.store.getAgent(who.id))?.name ?? "Agent";
    return { event: { role: "agent", id: who.id, name, status } };
  }
  const conversation = await deps.store.setCustomerOnline(who.id, status !== "offline");
  if (!conversation) return null;
  return {
    event: { role: "customer", id: who.id, name: conversation.customer.name, status, conversationId: who.id },
    conversation,
  };
}

/** A socket connected: returns the change to announce when its person was offline. */
export async function socketConnected(deps: DeskDeps, actor: Actor, socketId: string): Promise<PresenceChange | null> {
  const person = personOf(actor);
  const cameOnline = await deps.store.presenceJoin(person, socketId, Date.now() + deps.config.presenceTtlMs);
  if (!cameOnline) return null;
  return change(deps, person, await deps.store.getPresenceStatus(person), actor.name);
}

/** A socket closed: its person stays online for the grace period, then the sweep decides. */
export async function socketDisconnected(deps: DeskDeps, actor: Actor, socketId: string): Promise<void> {
  await deps.store.presenceLeave(personOf(actor), socketId, Date.now() + deps.config.presenceGraceMs);
}

/** One instance's heartbeat: keep its own sockets alive, then sweep everybody's expired ones. */
export async function heartbeat(
  deps: DeskDeps,
  localSockets: { person: PersonKey; socketId: string }[],
): Promise<PresenceChange[]> {
  const revived = localSockets.length > 0 ? await deps.store.presenceTouch(localSockets, Date.now() + deps.config.presenceTtlMs) : [];
  const gone = await deps.store.presenceSweep(Date.now(), { exclusiveForMs: deps.config.presenceHeartbeatMs * 0.8 });
  const changes = await Promise.all([
    // still connected, but swept while their heartbeats failed (Redis was away): back online
    ...revived.map(async (person) => change(deps, person, await deps.store.getPresenceStatus(person))),
    ...gone.map((person) => change(deps, person, "offline")),
  ]);
  return changes.filter((c): c is PresenceChange => c !== null);
}

export async function setAgentStatus(
  deps: DeskDeps,
  actor: AgentActor,
  status: "online" | "away",
): Promise<PresenceChange> {
  const person = agentPerson(actor.agentId);
  await deps.store.setPresenceStatus(person, status);
  return { event: { role: "agent", id: actor.agentId, name: actor.name, status } };
}

export const presenceOf = (deps: DeskDeps, person: PersonKey) => deps.store.getPresenceStatus(person);
