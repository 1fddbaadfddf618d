import { onScopeDispose, shallowRef, type Ref } from "vue";
import type { CobrowseState } from "../../../shared/protocol.js";
import type { Recorder } from "../../widget/recorder.js";
import type { DeskLink } from "../delivery/link.js";
import type { HostChannel } from "../hostChannel.js";
import { LIMITS } from "../limits.js";

export interface UseCobrowseCustomerOptions {
  socket: DeskLink;
  /** The widget's host page, in embed mode: it records itself and we relay. Null on `/`. */
  embedded?: HostChannel | null;
}

export interface UseCobrowseCustomer {
  /** The latest `cobrowse:state` of our conversation (null: nothing asked yet). */
  state: Readonly<Ref<CobrowseState | null>>;
  /** An answer or stop is on its way. */
  pending: Readonly<Ref<boolean>>;
  /** This tab is the one sending the page. */
  streaming: Readonly<Ref<boolean>>;
  allow(): Promise<void>;
  deny(): Promise<void>;
  stop(): Promise<void>;
}

/** Where a standalone page draws the agent's outline: a shadow root rrweb is told not to record. */
const LAYER_ID = "livedesk-cobrowse-layer";

interface Stream {
  resync(): void;
  highlight(nodeId: number): void;
  stop(): void;
}

/**
 * The customer's side of co-browse (SPEC section 8): consent, then the page, only from the
 * tab that allowed it. Nothing is recorded (or even loaded) before an `ok` to `allow`.
 */
export function useCobrowseCustomer({ socket, embedded = null }: UseCobrowseCustomerOptions): UseCobrowseCustomer {
  const state = shallowRef<CobrowseState | null>(null);
  const pending = shallowRef(false);
  const streaming = shallowRef(false);
  let stream: Stream | null = null;
  // Bumped by every stop, so a recorder still loading after one is thrown away.
  let generation = 0;
  let disposed = false;

  const send = (events: unknown[]) => {
    if (!stream) return;
    socket.request("cobrowse:events", { events }).then(
      // The desk refuses once the session is over (it may have ended on another instance first).
      (ack) => !ack.ok && ack.error.code === "forbidden" && stopStreaming(),
      () => undefined,
    );
  };

  function stopStreaming() {
    generation++;
    const current = stream;
    stream = null;
    streaming.value = false;
    current?.stop();
  }

  async function startStreaming() {
    if (stream || disposed) return;
    const mine = ++generation;
    if (embedded) {
      stream = {
        resync: () => embedded.post({ type: "livedesk:cobrowse:resync" }),
        highlight: (nodeId) => embedded.post({ type: "livedesk:cobrowse:highlight", nodeId }),
        stop: () => embedded.post({ type: "livedesk:cobrowse:stop" }),
      };
      streaming.value = true;
      embedded.post({ type: "livedesk:cobrowse:start", maxBatchBytes: LIMITS.cobrowseBatch });
      return;
    }
    let recorder: Recorder;
    try {
      const { startRecording } = await import("../../widget/recorder.js");
      if (mine !== generation || disposed) return;
      const layer = overlayLayer();
      // `stream` is set before recording starts: the first snapshot is emitted synchronously.
      stream = { resync: () => undefined, highlight: () => undefined, stop: () => undefined };
      streaming.value = true;
      recorder = startRecording({ send, maxBatchBytes: LIMITS.cobrowseBatch, blockSelector: `#${LAYER_ID}`, layer: layer.root });
      stream = {
        resync: () => recorder.resync(),
        highlight: (nodeId) => recorder.highlight(nodeId),
        stop: () => {
          recorder.stop();
          layer.remove();
        },
      };
    } catch {
      // The recorder did not load (offline, a blocked chunk): end the session for both.
      stopStreaming();
      void socket.request("cobrowse:stop", {}).catch(() => undefined);
    }
  }

  async function answer(allow: boolean) {
    pending.value = true;
    try {
      const ack = await socket.request("cobrowse:answer", { allow });
      if (allow && ack.ok) await startStreaming();
    } catch {
      // no answer from the desk: the prompt stays, the customer may try again
    } finally {
      pending.value = false;
    }
  }

  const offs = [
    socket.on("cobrowse:state", (next) => {
      state.value = next;
      if (next.status === "ended") stopStreaming();
      // the consent prompt is inside the widget's panel: make sure it is shown
      if (next.status === "requested") embedded?.post({ type: "livedesk:open" });
    }),
    socket.on("cobrowse:resync", () => stream?.resync()),
    socket.on("cobrowse:highlight", ({ nodeId }) => {
      if (typeof nodeId === "number") stream?.highlight(nodeId);
    }),
    // A new socket is a new tab as far as the desk is concerned: consent is asked again.
    socket.onStatus((s) => s !== "connected" && stopStreaming()),
  ];
  if (embedded) {
    offs.push(
      embedded.on("livedesk:cobrowse:events", (m) => {
        if (stream && Array.isArray(m.events) && m.events.length > 0) send(m.events);
      }),
      embedded.on("livedesk:cobrowse:failed", () => {
        if (!stream) return;
        stopStreaming();
        void socket.request("cobrowse:stop", {}).catch(() => undefined);
      }),
    );
  }
  onScopeDispose(() => {
    disposed = true;
    stopStreaming();
    offs.forEach((off) => off());
  });

  return {
    state,
    pending,
    streaming,
    allow: () => answer(true),
    deny: () => answer(false),
    async stop() {
      stopStreaming();
      pending.value = true;
      try {
        await socket.request("cobrowse:stop", {});
      } catch {
        // the desk will end it anyway when this socket goes
      } finally {
        pending.value = false;
      }
    },
  };
}

/**
 * A click-through layer in a shadow root, so the page's CSS cannot reach the outline. Zero
 * in size: the mirror shows it as an empty placeholder (it is blocked from recording).
 */
function overlayLayer() {
  const host = document.createElement("div");
  host.id = LAYER_ID;
  host.style.cssText = "position:fixed;top:0;left:0;width:0;height:0;overflow:visible;pointer-events:none;z-index:2147483647";
  const root = host.attachShadow({ mode: "open" });
  document.body.appendChild(host);
  return { root, remove: () => host.remove() };
}
