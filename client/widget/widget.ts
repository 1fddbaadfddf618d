/**
 * The embeddable widget loader, `<script src="https://<desk>/widget.js" async></script>`.
 * Adds a "Chat with us" launcher (in a shadow root, so the host's CSS cannot break it);
 * the first open loads the desk's customer page in an iframe (`/?embed=1`). The customer
 * token lives in the host page's localStorage and reaches the iframe by postMessage only
 * (docs/widget-protocol.md). Calls queued on the `LiveDesk` stub before this loaded are
 * replayed. Budget: 5 KB gzipped; the co-browse recorder is a separate, lazy bundle.
 */
import { isDeskMessage, type FrameMessage, type HostMessage, type Identify } from "./protocol.js";
import type { Recorder, RecorderOptions } from "./recorder.js";

type Command = "open" | "close" | "identify";
interface LiveDeskFn {
  (command: Command, arg?: unknown): void;
  q?: ArrayLike<unknown>[];
  loaded?: boolean;
}
declare global {
  interface Window {
    LiveDesk?: LiveDeskFn;
    LiveDeskRecorder?: { startRecording(options: RecorderOptions): Recorder };
  }
}

const ROOT_ID = "livedesk-widget";

function deskOrigin(): string | null {
  const script =
    (document.currentScript as HTMLScriptElement | null) ??
    [...document.querySelectorAll<HTMLScriptElement>("script[src]")].find((s) => /\/widget\.js(\?|#|$)/.test(s.src));
  try {
    return script ? new URL(script.src, location.href).origin : null;
  } catch {
    return null;
  }
}

const CSS = `
:host{all:initial}
*{box-sizing:border-box;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483646;display:flex;align-items:center;gap:8px;
 padding:12px 18px;border:0;border-radius:999px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer;
 box-shadow:0 4px 14px rgba(0,0,0,.25)}
.launcher:hover{background:#1e40af}
.launcher:focus-visible,.close:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.launcher svg{width:20px;height:20px;fill:currentColor}
.panel{position:fixed;right:20px;bottom:84px;z-index:2147483647;width:380px;height:min(620px,calc(100vh - 104px));
 display:flex;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3)}
.panel[hidden]{display:none}
.bar{display:flex;justify-content:space-between;align-items:center;padding:6px 8px 6px 14px;background:#1d4ed8;color:#fff;font-weight:600}
.close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;width:36px;height:36px;border-radius:6px;cursor:pointer}
iframe{flex:1;width:100%;border:0;background:#fff}
@media (max-width:480px){.panel{inset:0;width:auto;height:auto;border-radius:0}}
`;

function mount(desk: string) {
  const host = document.createElement("div");
  host.id = ROOT_ID;
  const root = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = CSS;
  const launcher = document.createElement("button");
  launcher.type = "button";
  launcher.className = "launcher";
  launcher.setAttribute("aria-expanded", "false");
  launcher.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16v12H7l-3 3z"/></svg><span>Chat with us</span>';
  const panel = document.createElement("section");
  panel.className = "panel";
  panel.id = "livedesk-panel";
  panel.hidden = true;
  panel.setAttribute("aria-label", "Live chat");
  launcher.setAttribute("aria-controls", panel.id);
  panel.innerHTML = '<div class="bar"><span>Live chat</span><button type="button" class="close" aria-label="Close chat">×</button></div>';
  root.append(style, launcher, panel);
  (document.body ?? document.documentElement).appendChild(host);

  let frame: HTMLIFrameElement | null = null;
  let ready = false;
  let identify: Identify | null = null;
  let recorder: Recorder | null = null;
  const tokenKey = `livedesk:token:${desk}`;
  const storage = {
    get: () => {
      try {
        return localStorage.getItem(tokenKey);
      } catch {
        return null;
      }
    },
    set: (token: string | null) => {
      try {
        if (token) localStorage.setItem(tokenKey, token);
        else localStorage.removeItem(tokenKey);
      } catch {
        // storage blocked (privacy mode): the chat lasts as long as the page
      }
    },
  };

  const post = (message: HostMessage) => frame?.contentWindow?.postMessage(message, desk);

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.title = "Live chat";
      frame.src = `${desk}/?embed=1`;
      frame.allow = "clipboard-write";
      panel.appendChild(frame);
    }
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  function close() {
    const hadFocus = root.activeElement !== null;
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) launcher.focus();
  }

  function stopRecording() {
    recorder?.stop();
    recorder = null;
  }
  function loadRecorder(): Promise<NonNullable<Window["LiveDeskRecorder"]>> {
    if (window.LiveDeskRecorder) return Promise.resolve(window.LiveDeskRecorder);
    return new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = `${desk}/widget-cobrowse.js`;
      s.async = true;
      s.onload = () => (window.LiveDeskRecorder ? resolve(window.LiveDeskRecorder) : reject(new Error("recorder missing")));
      s.onerror = () => reject(new Error("recorder did not load"));
      document.head.appendChild(s);
    });
  }
  function startRecording(maxBatchBytes?: number) {
    if (recorder) return recorder.resync();
    loadRecorder().then(
      (lib) => {
        recorder = lib.startRecording({
          send: (events) => post({ type: "livedesk:cobrowse:events", events }),
          maxBatchBytes,
          blockSelector: `#${ROOT_ID}`,
          layer: root,
        });
      },
      (err: Error) => post({ type: "livedesk:cobrowse:failed", reason: err.message }),
    );
  }

  addEventListener("message", (event: MessageEvent) => {
    // only the desk's page in our own iframe speaks to us
    if (!frame || event.origin !== desk || event.source !== frame.contentWindow || !isDeskMessage(event.data)) return;
    const m = event.data as FrameMessage;
    switch (m.type) {
      case "livedesk:ready":
        ready = true;
        post({ type: "livedesk:init", token: storage.get(), identify });
        break;
      case "livedesk:token":
        if (m.token === null || (typeof m.token === "string" && m.token.length <= 512)) storage.set(m.token);
        break;
      case "livedesk:open":
        open();
        break;
      case "livedesk:close":
        close();
        break;
      case "livedesk:cobrowse:start":
        startRecording(typeof m.maxBatchBytes === "number" ? m.maxBatchBytes : undefined);
        break;
      case "livedesk:cobrowse:stop":
        stopRecording();
        break;
      case "livedesk:cobrowse:resync":
        recorder?.resync();
        break;
      case "livedesk:cobrowse:highlight":
        if (typeof m.nodeId === "number") recorder?.highlight(m.nodeId);
        break;
    }
  });

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  panel.querySelector(".close")?.addEventListener("click", close);
  panel.addEventListener("keydown", (e) => {
    if (e.key === "Escape") close();
  });

  return (command: Command, arg?: unknown) => {
    if (command === "open") open();
    else if (command === "close") close();
    else if (command === "identify" && arg && typeof arg === "object") {
      const { name, email } = arg as Record<string, unknown>;
      identify = {
        ...(typeof name === "string" && { name: name.slice(0, 80) }),
        ...(typeof email === "string" && { email: email.slice(0, 254) }),
      };
      if (ready) post({ type: "livedesk:identify", identify });
    }
  };
}

function boot(desk: string) {
  const stub = window.LiveDesk;
  if (stub?.loaded) return;
  const queued = [...(stub?.q ?? [])];
  const run = mount(desk);
  const api: LiveDeskFn = (command, arg) => run(command, arg);
  api.loaded = true;
  window.LiveDesk = api;
  for (const args of queued) run(args[0] as Command, args[1]);
}

// `document.currentScript` is only set while this runs: read the origin now, mount once the body exists
const desk = deskOrigin();
if (desk) {
  if (document.body) boot(desk);
  else document.addEventListener("DOMContentLoaded", () => boot(desk), { once: true });
}
