import { onScopeDispose, shallowRef, type Ref } from "vue";
import type { Identify } from "../../widget/protocol.js";
import { connectToHost, type HostChannel } from "../hostChannel.js";
import type { TokenStore } from "./useSession.js";

export interface UseEmbed {
  channel: HostChannel;
  /** True once the host answered `livedesk:ready` with `livedesk:init`. */
  initialised: Readonly<Ref<boolean>>;
  /** The host's stored token, as `init` handed it over. */
  initialToken: Readonly<Ref<string | null>>;
  /** The form prefill from `LiveDesk('identify', …)`, updated by later `identify` calls. */
  prefill: Readonly<Ref<Identify | null>>;
  /**
   * Keeps the token in the host page's storage, by postMessage: the iframe's own storage is
   * third-party (often partitioned or blocked) and is never written in embed mode.
   */
  tokenStore: TokenStore;
}

const text = (v: unknown, max: number) => (typeof v === "string" ? v.slice(0, max) : undefined);
const cleanIdentify = (v: unknown): Identify | null => {
  if (!v || typeof v !== "object") return null;
  const { name, email } = v as Record<string, unknown>;
  const out: Identify = {};
  const n = text(name, 80);
  const e = text(email, 254);
  if (n) out.name = n;
  if (e) out.email = e;
  return out;
};

/** The customer page inside the widget's iframe: talks to the host page for as long as the scope lives. */
export function useEmbed(): UseEmbed {
  const channel = connectToHost();
  const initialised = shallowRef(false);
  const initialToken = shallowRef<string | null>(null);
  const prefill = shallowRef<Identify | null>(null);
  let token: string | null = null;

  const offs = [
    channel.on("livedesk:init", (m) => {
      if (initialised.value) return;
      token = typeof m.token === "string" && m.token.length <= 512 ? m.token : null;
      initialToken.value = token;
      prefill.value = cleanIdentify(m.identify);
      initialised.value = true;
    }),
    channel.on("livedesk:identify", (m) => (prefill.value = cleanIdentify(m.identify))),
  ];
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" && !e.defaultPrevented) channel.post({ type: "livedesk:close" });
  };
  document.addEventListener("keydown", onKey);
  channel.post({ type: "livedesk:ready" });

  onScopeDispose(() => {
    document.removeEventListener("keydown", onKey);
    offs.forEach((off) => off());
    channel.close();
  });

  return {
    channel,
    initialised,
    initialToken,
    prefill,
    tokenStore: {
      get: () => token,
      set(next) {
        token = next;
        channel.post({ type: "livedesk:token", token: next });
      },
      clear() {
        token = null;
        channel.post({ type: "livedesk:token", token: null });
      },
    },
  };
}
