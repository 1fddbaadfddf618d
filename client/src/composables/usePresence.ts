import { onScopeDispose, shallowRef, watch, type Ref } from "vue";
import type { Agent, PresenceStatus } from "../../../shared/protocol.js";
import { api } from "../api.js";
import type { DeskLink } from "../delivery/link.js";

export type OwnStatus = "online" | "away";

export interface UseTeamPresence {
  /** Every agent with their presence, the signed-in one included. */
  agents: Readonly<Ref<readonly Agent[]>>;
  own: Readonly<Ref<OwnStatus>>;
  setOwn(status: OwnStatus): Promise<void>;
}

/** The agent's view of presence: colleagues and the agent's own switch. */
export function useTeamPresence(link: DeskLink, token: () => string | null): UseTeamPresence {
  const agents = shallowRef<readonly Agent[]>([]);
  const own = shallowRef<OwnStatus>("online");

  const load = async () => {
    const res = await api.agents(token()).catch(() => null);
    if (res) agents.value = res.agents;
  };
  const announce = (status: OwnStatus) => link.request("presence:set", { status }).catch(() => null);

  const offs = [
    link.on("presence", (e) => {
      // A customer's presence reaches us through their conversation's `conversation:updated`.
      if (e.role !== "agent") return;
      if (agents.value.some((a) => a.id === e.id)) {
        agents.value = agents.value.map((a) => (a.id === e.id ? { ...a, presence: e.status } : a));
      } else {
        void load(); // a colleague we have not listed yet
      }
    }),
    link.onStatus((s) => {
      if (s !== "connected") return;
      // A new connection starts online: restore "away" if that is what the agent chose.
      if (own.value === "away") void announce("away");
      void load();
    }),
  ];
  if (link.status === "connected") void load();
  onScopeDispose(() => offs.forEach((off) => off()));

  return {
    agents,
    own,
    async setOwn(status) {
      const previous = own.value;
      own.value = status;
      const res = await announce(status);
      if (!res?.ok) own.value = previous;
    },
  };
}

/** The customer's view: the assigned agent's presence (online until told otherwise). */
export function useAssigneePresence(
  link: DeskLink,
  assigneeId: Readonly<Ref<string | null>>,
): Readonly<Ref<PresenceStatus>> {
  const status = shallowRef<PresenceStatus>("online");
  watch(assigneeId, () => (status.value = "online"));
  const off = link.on("presence", (e) => {
    if (e.role === "agent" && e.id === assigneeId.value) status.value = e.status;
  });
  onScopeDispose(off);
  return status;
}
