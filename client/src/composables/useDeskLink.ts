import { onScopeDispose, readonly, shallowRef, type Ref } from "vue";
import type { DeskLink, LinkStatus } from "../delivery/link.js";
import { createDeskSocket, linkSocket, type Credentials } from "../socket.js";

export interface UseDeskLinkOptions {
  /** Read on every (re)connect. */
  credentials: () => Credentials | null;
  /** Defaults to the page's own origin. */
  url?: string;
}

export interface UseDeskLink {
  link: DeskLink;
  status: Readonly<Ref<LinkStatus>>;
  /** Tries again after `unauthorized` (e.g. once a new credential is stored). */
  reconnect: () => void;
}

/** Opens the desk connection for the current scope and closes it when the scope ends. */
export function useDeskLink(options: UseDeskLinkOptions): UseDeskLink {
  const link = linkSocket(createDeskSocket(options));
  const status = shallowRef<LinkStatus>(link.status);
  const off = link.onStatus((s) => (status.value = s));
  link.connect();
  onScopeDispose(() => {
    off();
    link.close();
  });
  return { link, status: readonly(status), reconnect: () => link.connect() };
}
