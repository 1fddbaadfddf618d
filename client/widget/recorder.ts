/**
 * Records the host page for co-browse (loaded by the widget only once the customer has
 * allowed it, as `widget-cobrowse.js`). Every input value is masked, `data-desk-mask`
 * text is masked, `data-desk-block` elements (and the widget itself) become placeholders.
 * Also usable as a module by the desk's own customer page for `/`.
 */
import { record } from "@rrweb/record";
import { splitEvents } from "./batching.js";

export interface RecorderOptions {
  /** Receives each batch, in order, already under `maxBatchBytes`. */
  send: (events: unknown[]) => void;
  /** LIMITS.cobrowseBatch, passed in so this bundle does not carry the protocol module. */
  maxBatchBytes?: number;
  /** Extra elements never recorded (the widget's own root). */
  blockSelector?: string;
  /** Where the outline of a highlighted element is drawn (outside what is recorded). */
  layer?: HTMLElement | ShadowRoot;
  /** Incremental events are sent at most this often, ms. */
  flushMs?: number;
}

export interface Recorder {
  /** A full snapshot now (the agent joined or missed events). */
  resync(): void;
  /** Outlines the element the agent points at, and scrolls it into view. */
  highlight(nodeId: number): void;
  stop(): void;
}

const FULL_SNAPSHOT = 2;

export function startRecording(options: RecorderOptions): Recorder {
  const maxBatchBytes = options.maxBatchBytes ?? 60 * 1024;
  let buffer: unknown[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer.length === 0) return;
    const events = buffer;
    buffer = [];
    for (const batch of splitEvents(events, maxBatchBytes)) options.send(batch);
  };

  // Drawn before recording starts, inside a blocked element: never serialized, so neither the
  // box nor its moves reach the agent (nodes added to a blocked host's shadow root later would).
  const outline = createOutline(options.layer ?? document.body);
  const stopRecording = record({
    emit(event) {
      buffer.push(event);
      // a snapshot goes at once, with the meta event before it; the rest is coalesced
      if ((event as { type: number }).type === FULL_SNAPSHOT) flush();
      else timer ??= setTimeout(flush, options.flushMs ?? 100);
    },
    maskAllInputs: true,
    maskTextSelector: "[data-desk-mask], [data-desk-mask] *",
    blockSelector: ["[data-desk-block]", options.blockSelector].filter(Boolean).join(", "),
    inlineStylesheet: true,
    recordCanvas: false,
    collectFonts: false,
    sampling: { mousemove: 50, scroll: 150, input: "last" },
  });

  return {
    resync: () => record.takeFullSnapshot(true),
    highlight(nodeId) {
      const node = record.mirror.getNode(nodeId);
      const element = node instanceof Element ? node : node?.parentElement;
      if (element) outline.show(element);
    },
    stop() {
      stopRecording?.();
      flush();
      outline.remove();
    },
  };
}

/** A box drawn over an element, following it as the page scrolls, gone after a few seconds. */
function createOutline(layer: HTMLElement | ShadowRoot) {
  const box = document.createElement("div");
  box.setAttribute("aria-hidden", "true");
  box.style.cssText =
    "position:fixed;pointer-events:none;z-index:2147483647;border:3px solid #f59e0b;border-radius:4px;" +
    "box-shadow:0 0 0 4px rgba(245,158,11,.3);transition:all .15s ease-out;display:none";
  layer.appendChild(box);
  let target: Element | null = null;
  let hideTimer: ReturnType<typeof setTimeout> | undefined;
  let frame = 0;
  const place = () => {
    frame = 0;
    if (!target) return;
    const r = target.getBoundingClientRect();
    Object.assign(box.style, { display: "block", left: `${r.left - 4}px`, top: `${r.top - 4}px`, width: `${r.width + 2}px`, height: `${r.height + 2}px` });
  };
  const follow = () => {
    frame ||= requestAnimationFrame(place);
  };
  const hide = () => {
    target = null;
    box.style.display = "none";
    removeEventListener("scroll", follow, true);
    removeEventListener("resize", follow);
  };
  return {
    show(element: Element) {
      target = element;
      const r = element.getBoundingClientRect();
      if (r.bottom < 0 || r.top > innerHeight) element.scrollIntoView({ block: "center", behavior: "smooth" });
      place();
      addEventListener("scroll", follow, true);
      addEventListener("resize", follow);
      clearTimeout(hideTimer);
      hideTimer = setTimeout(hide, 5000);
    },
    remove() {
      clearTimeout(hideTimer);
      hide();
      box.remove();
    },
  };
}
