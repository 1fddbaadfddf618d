/**
 * The customer page's side of the widget protocol (docs/widget-protocol.md), in embed
 * mode (`/?embed=1` inside the widget's iframe). Only the parent window at the host
 * origin is heard, and everything goes to that exact origin: from
 * `location.ancestorOrigins[0]` where the browser has it, else from the first
 * `livedesk:init` (the desk's `frame-ancestors` already limits who can frame us).
 */
import { isDeskMessage, type FrameMessage, type HostMessage } from "../widget/protocol.js";

export type HostMessageOf<T extends HostMessage["type"]> = Extract<HostMessage, { type: T }>;

export interface HostChannel {
  /** Sends to the host page; dropped until the host origin is known (except `ready`). */
  post(message: FrameMessage): void;
  /** Listens for one message type from the host page; returns the unsubscribe function. */
  on<T extends HostMessage["type"]>(type: T, listener: (message: HostMessageOf<T>) => void): () => void;
  close(): void;
}

/** True when this page was loaded as the widget's iframe. */
export function isEmbedded(win: Window = window): boolean {
  return new URLSearchParams(win.location.search).get("embed") === "1" && win.parent !== win;
}

export function connectToHost(win: Window = window): HostChannel {
  const ancestor = win.location.ancestorOrigins?.[0];
  let hostOrigin: string | null = ancestor && ancestor !== "null" ? ancestor : null;
  const listeners = new Map<string, Set<(message: never) => void>>();

  const onMessage = (event: MessageEvent) => {
    if (event.source !== win.parent || !isDeskMessage(event.data)) return;
    const message = event.data as HostMessage;
    if (hostOrigin === null) {
      // Without ancestorOrigins the first init names the host; nothing else is heard before it.
      if (message.type !== "livedesk:init" || event.origin === "null") return;
      hostOrigin = event.origin;
    } else if (event.origin !== hostOrigin) {
      return;
    }
    for (const listener of [...(listeners.get(message.type) ?? [])]) (listener as (m: HostMessage) => void)(message);
  };
  win.addEventListener("message", onMessage);

  return {
    post(message) {
      // `ready` carries no data, so it may go anywhere while the host is not known yet.
      if (hostOrigin) win.parent.postMessage(message, hostOrigin);
      else if (message.type === "livedesk:ready") win.parent.postMessage(message, "*");
    },
    on(type, listener) {
      const set = listeners.get(type) ?? new Set();
      set.add(listener as (message: never) => void);
      listeners.set(type, set);
      return () => set.delete(listener as (message: never) => void);
    },
    close() {
      win.removeEventListener("message", onMessage);
      listeners.clear();
    },
  };
}
