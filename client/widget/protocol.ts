/**
 * The postMessage protocol between the widget loader (on the host page) and the desk's
 * customer page in its iframe (`/?embed=1`). Types only, no runtime: both the loader and
 * the customer page (client/src) import it. Described in docs/widget-protocol.md.
 *
 * Every message is a plain object with a `type` starting `livedesk:`. Each side sends with
 * an explicit target origin and accepts a message only when `event.origin` is the other
 * side's origin and `event.source` is the other side's window.
 */

export interface Identify {
  name?: string;
  email?: string;
}

/** iframe → host page. */
export type FrameMessage =
  /** The customer page is listening; the host answers with `livedesk:init`. */
  | { type: "livedesk:ready" }
  /** A new customer token to keep (null: forget it, e.g. the desk refused it). */
  | { type: "livedesk:token"; token: string | null }
  /** Show the panel (an agent wrote, or asked to see the page). */
  | { type: "livedesk:open" }
  /** Hide the panel (the customer pressed Escape or a close button inside). */
  | { type: "livedesk:close" }
  /** The customer allowed co-browse: record the host page and send batches back. */
  | { type: "livedesk:cobrowse:start"; maxBatchBytes?: number }
  /** The session ended (either side, or the desk): stop recording, remove the outline. */
  | { type: "livedesk:cobrowse:stop" }
  /** The agent needs a full snapshot. */
  | { type: "livedesk:cobrowse:resync" }
  /** The agent points at a recorded node: outline it. */
  | { type: "livedesk:cobrowse:highlight"; nodeId: number };

/** host page → iframe. */
export type HostMessage =
  /** Answer to `livedesk:ready`: the stored token (null: none yet) and the prefill. */
  | { type: "livedesk:init"; token: string | null; identify: Identify | null }
  /** `LiveDesk('identify', …)` called after init. */
  | { type: "livedesk:identify"; identify: Identify }
  /** Recorded events of the host page, each batch under `maxBatchBytes` as JSON. */
  | { type: "livedesk:cobrowse:events"; events: unknown[] }
  /** Recording could not start or broke: the customer page should send `cobrowse:stop`. */
  | { type: "livedesk:cobrowse:failed"; reason: string };

export const MESSAGE_PREFIX = "livedesk:";

/** True for an object carrying a `livedesk:` type (the other fields are checked by the receiver). */
export const isDeskMessage = (data: unknown): data is { type: string } =>
  typeof data === "object" && data !== null && typeof (data as { type?: unknown }).type === "string" &&
  (data as { type: string }).type.startsWith(MESSAGE_PREFIX);
