import { onScopeDispose, shallowRef, type Ref } from "vue";
import type { Replayer } from "@rrweb/replay";
import type { CobrowseState } from "../../../shared/protocol.js";
import type { WireError } from "../../../shared/errors.js";
import { createChunkJoiner } from "../../widget/batching.js";
import type { DeskLink } from "../delivery/link.js";

export interface UseCobrowseOptions {
  socket: DeskLink;
  conversationId: string;
  /** How far the mirror trails the customer's page, ms: room for batches to arrive in order. */
  bufferMs?: number;
}

export interface UseCobrowse {
  /** The session's latest state (null: none that we know of). */
  state: Readonly<Ref<CobrowseState | null>>;
  /** The mirror shows the customer's page (a full snapshot arrived). */
  live: Readonly<Ref<boolean>>;
  /** Where the customer is: host and path of the page (no query, which may hold secrets). */
  page: Readonly<Ref<string | null>>;
  /** The customer's viewport, for scaling the mirror. */
  viewport: Readonly<Ref<{ width: number; height: number } | null>>;
  /** The desk's refusal of our last action, if any. */
  error: Readonly<Ref<WireError | null>>;
  request(): Promise<void>;
  stop(): Promise<void>;
  resync(): Promise<void>;
  highlight(nodeId: number): Promise<void>;
  /** Outlines, on the customer's page, the element of the mirror under `target`. */
  pointAt(target: Node): Promise<boolean>;
  /** Where the mirror is drawn; null when that element goes away. */
  mount(el: HTMLElement | null): void;
  /** The mirror's document, for finding what the agent points at. */
  mirrorDocument(): Document | null;
}

type RecordedEvent = { type: number; timestamp: number; data?: unknown };
const FULL_SNAPSHOT = 2;
const META = 4;
const MAX_HELD = 2_000;
const isRecorded = (e: unknown): e is RecordedEvent =>
  typeof e === "object" && e !== null && typeof (e as RecordedEvent).type === "number" && typeof (e as RecordedEvent).timestamp === "number";

function pageOf(data: unknown): string | null {
  const href = (data as { href?: unknown } | undefined)?.href;
  try {
    const url = new URL(String(href));
    return url.host + url.pathname;
  } catch {
    return null;
  }
}

/**
 * The assignee's side of co-browse: ask, then watch a live mirror of the customer's page
 * (SPEC section 8). Page data is kept only in the mirror, and dropped when the session ends.
 */
export function useCobrowse({ socket, conversationId, bufferMs = 250 }: UseCobrowseOptions): UseCobrowse {
  const state = shallowRef<CobrowseState | null>(null);
  const live = shallowRef(false);
  const viewport = shallowRef<{ width: number; height: number } | null>(null);
  const page = shallowRef<string | null>(null);
  const error = shallowRef<WireError | null>(null);
  const joiner = createChunkJoiner();
  let root: HTMLElement | null = null;
  let replayer: Replayer | null = null;
  let replayerModule: Promise<typeof import("@rrweb/replay")> | null = null;
  // Events held until the replayer exists: the last meta event, then a full snapshot onwards.
  let held: RecordedEvent[] = [];
  let lastResyncAsk = 0;
  let disposed = false;

  const loadReplayer = () => {
    replayerModule ??= import("@rrweb/replay");
    return replayerModule;
  };

  const act = async (event: "cobrowse:request" | "cobrowse:stop" | "cobrowse:resync", quiet = false) => {
    try {
      const ack = await socket.request(event, { conversationId });
      if (!quiet) error.value = ack.ok ? null : ack.error;
      return ack.ok;
    } catch {
      if (!quiet) error.value = { code: "unavailable", message: "The desk did not answer. Try again." };
      return false;
    }
  };

  function teardown() {
    replayer?.destroy();
    replayer = null;
    held = [];
    joiner.reset();
    live.value = false;
    viewport.value = null;
    page.value = null;
  }

  function askForSnapshot() {
    // one ask per couple of seconds: a large snapshot may still be on its way
    if (Date.now() - lastResyncAsk < 2_000) return;
    lastResyncAsk = Date.now();
    void act("cobrowse:resync", true);
  }

  async function feed(events: RecordedEvent[]) {
    for (const e of events) if (e.type === META) page.value = pageOf(e.data);
    if (replayer) {
      for (const e of events) replayer.addEvent(e as never);
      return;
    }
    for (const e of events) {
      if (e.type === META) held = [e];
      else if (e.type === FULL_SNAPSHOT) held = [...held.filter((h) => h.type === META), e];
      else if (held.some((h) => h.type === FULL_SNAPSHOT)) held.push(e);
    }
    // nowhere to draw for a long while: keep no backlog, ask again once there is
    if (held.length > MAX_HELD) held = [];
    if (!held.some((h) => h.type === FULL_SNAPSHOT)) return askForSnapshot();
    await start();
  }

  async function start() {
    if (!root || replayer || disposed) return;
    const { Replayer } = await loadReplayer();
    if (!root || replayer || disposed || state.value?.status === "ended") return;
    const first = held[0];
    if (!first) return;
    const r = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      UNSAFE_replayCanvas: false,
      showWarning: false,
      triggerFocus: false,
      // no scrollbars of our own: the page scrolls as the customer scrolls it
      insertStyleRules: ["html { cursor: default; scrollbar-width: none; }"],
    });
    // Chromium ignores smooth programmatic scrolling in a `scrolling="no"` frame, which is
    // how rrweb leaves it; the mirror still takes no input (pointer-events stay off).
    r.iframe.setAttribute("scrolling", "auto");
    r.on("resize", (size) => (viewport.value = size as { width: number; height: number }));
    // the customer's clock, not ours: the mirror trails the page by bufferMs
    r.startLive(first.timestamp - bufferMs);
    replayer = r;
    const events = held;
    held = [];
    for (const e of events) r.addEvent(e as never);
    live.value = true;
    if (state.value?.status !== "active") state.value = { conversationId, status: "active" };
  }

  async function highlight(nodeId: number) {
    try {
      const ack = await socket.request("cobrowse:highlight", { conversationId, nodeId });
      error.value = ack.ok ? null : ack.error;
    } catch {
      error.value = { code: "unavailable", message: "The desk did not answer. Try again." };
    }
  }

  const offs = [
    socket.on("cobrowse:state", (next) => {
      if (next.conversationId !== conversationId) return;
      state.value = next;
      if (next.status !== "active") teardown();
    }),
    socket.on("cobrowse:events", (batch) => {
      if (batch.conversationId !== conversationId || !Array.isArray(batch.events)) return;
      if (state.value?.status === "ended") return;
      void feed(joiner.join(batch.events).filter(isRecorded));
    }),
  ];
  onScopeDispose(() => {
    disposed = true;
    offs.forEach((off) => off());
    teardown();
  });

  // Opened during a live session (another conversation was on screen, or a new tab): the
  // state went by before we listened. Only the assignee of an active session gets `ok`,
  // and the customer then sends a full snapshot.
  void act("cobrowse:resync", true).then((ok) => {
    if (ok && !state.value) state.value = { conversationId, status: "active" };
  });

  return {
    state,
    live,
    page,
    viewport,
    error,
    async request() {
      if (await act("cobrowse:request")) void loadReplayer().catch(() => undefined);
    },
    async stop() {
      await act("cobrowse:stop");
    },
    async resync() {
      await act("cobrowse:resync");
    },
    highlight,
    async pointAt(target) {
      const id = replayer?.getMirror().getId(target);
      if (id === undefined || id < 0) return false;
      await highlight(id);
      return true;
    },
    mount(el) {
      root = el;
      if (!el) return teardown();
      if (held.some((h) => h.type === FULL_SNAPSHOT)) void start();
      else if (state.value?.status === "active" && !replayer) askForSnapshot();
    },
    mirrorDocument: () => replayer?.iframe.contentDocument ?? null,
  };
}
