/**
 * The embeddable widget in a real Chromium: the demo shop page on one origin (localhost)
 * embeds the desk from another (127.0.0.1). The desk's customer page is replaced by a
 * small double that speaks the widget protocol (docs/widget-protocol.md), so the loader
 * is tested on its own.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser, type Frame, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, type DeskApp } from "../server/app.js";
import { silentLogger } from "../server/log.js";
import { MemoryStore } from "../server/store/memory.js";
import { testConfig } from "./helpers/desk.js";
import { freePort } from "./helpers/redis.js";

/** The desk's `/?embed=1` stand-in: records what the host sends, sends what a test asks. */
const FAKE_EMBED = `
const state = { init: null, identify: [], events: [], failed: null, other: [] };
window.__embed = state;
const expected = (location.ancestorOrigins && location.ancestorOrigins[0]) || "*";
let host = null;
addEventListener("message", (e) => {
  if (e.source !== parent || (expected !== "*" && e.origin !== expected)) return;
  const m = e.data;
  if (m.type === "livedesk:init" && !host) { host = e.origin; state.init = m; }
  else if (m.type === "livedesk:identify") state.identify.push(m.identify);
  else if (m.type === "livedesk:cobrowse:events") state.events.push(...m.events);
  else if (m.type === "livedesk:cobrowse:failed") state.failed = m.reason;
  else state.other.push(m);
});
window.__send = (m) => parent.postMessage(m, host);
parent.postMessage({ type: "livedesk:ready" }, expected);
`;

let dir: string;
let desk: DeskApp;
let port: number;
let browser: Browser;
let hostUrl: string;
let deskOrigin: string;

beforeAll(async () => {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: apt-get install -y chromium, or set CHROMIUM_PATH.`);
  }
  dir = await mkdtemp(join(tmpdir(), "livedesk-widget-"));
  await build({ configFile: "vite.widget.config.ts", logLevel: "warn", build: { outDir: dir } });
  await writeFile(join(dir, "index.html"), `<!doctype html><title>embed</title><script src="/fake-embed.js"></script>`);
  await writeFile(join(dir, "fake-embed.js"), FAKE_EMBED);

  port = await freePort();
  hostUrl = `http://localhost:${port}`;
  deskOrigin = `http://127.0.0.1:${port}`;
  const config = testConfig({ DESK_CLIENT_DIR: dir, DESK_SERVE_DEMO: "1", DESK_ALLOWED_ORIGINS: hostUrl });
  desk = createApp({ config, store: new MemoryStore(), log: silentLogger() });
  await new Promise<void>((resolve) => desk.server.listen(port, "127.0.0.1", resolve));
  browser = await chromium.launch({ executablePath, args: ["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP localhost 127.0.0.1"] });
});

afterAll(async () => {
  await browser?.close();
  desk?.stop();
  desk?.io.close();
  await new Promise<void>((resolve) => (desk ? desk.server.close(() => resolve()) : resolve()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

const demo = () => `${hostUrl}/demo/?desk=${encodeURIComponent(deskOrigin)}`;

async function openDemo(setup?: (page: Page) => Promise<unknown>) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  // CSP violations and script errors show up here; failed loads are checked by response below
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && errors.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && errors.push(`${r.status()} ${r.url()}`));
  page.on("pageerror", (e) => errors.push(e.message));
  await setup?.(page);
  await page.goto(demo());
  await page.getByRole("button", { name: "Chat with us" }).waitFor();
  return { page, context, errors };
}

async function embedFrame(page: Page): Promise<Frame> {
  await expect.poll(() => page.frames().some((f) => f.url().startsWith(`${deskOrigin}/`))).toBe(true);
  const frame = page.frames().find((f) => f.url().startsWith(`${deskOrigin}/`))!;
  await expect.poll(() => frame.evaluate(() => Boolean((window as any).__embed?.init))).toBe(true);
  return frame;
}

const embed = (frame: Frame) => frame.evaluate(() => (window as any).__embed);
const send = (frame: Frame, message: unknown) => frame.evaluate((m) => (window as any).__send(m), message);

describe("widget loader", () => {
  it("stays within its 5 KB gzipped budget, with the recorder in its own lazy bundle", async () => {
    const loader = await readFile(join(dir, "widget.js"));
    expect(gzipSync(loader, { level: 9 }).length).toBeLessThan(5 * 1024);
    expect(existsSync(join(dir, "widget-cobrowse.js"))).toBe(true);
    expect(loader.toString()).not.toContain("rrweb");
  });

  it("adds a 'Chat with us' launcher and loads no iframe before the first open", async () => {
    const { page, context, errors } = await openDemo();
    const launcher = page.getByRole("button", { name: "Chat with us" });
    await expect.poll(() => launcher.getAttribute("aria-expanded")).toBe("false");
    expect(await page.locator("iframe").count()).toBe(0);
    expect(page.frames()).toHaveLength(1);
    await launcher.click();
    const frame = await embedFrame(page);
    expect(frame.url()).toBe(`${deskOrigin}/?embed=1`);
    expect(await launcher.getAttribute("aria-expanded")).toBe("true");
    expect(await page.locator("iframe").getAttribute("title")).toBe("Live chat");
    expect(errors).toEqual([]);
    await context.close();
  });

  it("replays identify queued on the stub before it loaded, and hands no token when none is stored", async () => {
    const { page, context } = await openDemo();
    await page.getByRole("button", { name: "Chat with us" }).click();
    const frame = await embedFrame(page);
    expect((await embed(frame)).init).toEqual({
      type: "livedesk:init",
      token: null,
      identify: { name: "Demo Shopper", email: "shopper@example.com" },
    });
    await page.evaluate(() => (window as any).LiveDesk("identify", { name: "Later Name", email: "later@example.com" }));
    await expect.poll(async () => (await embed(frame)).identify).toEqual([{ name: "Later Name", email: "later@example.com" }]);
    await context.close();
  });

  it("replays open and close queued before it loaded", async () => {
    const { page, context } = await openDemo((p) =>
      p.addInitScript(() => {
        const stub: any = function () { (stub.q = stub.q || []).push(arguments); };
        (window as any).LiveDesk = stub;
        stub("close");
        stub("open");
      }),
    );
    await embedFrame(page);
    expect(await page.getByRole("button", { name: "Chat with us" }).getAttribute("aria-expanded")).toBe("true");
    await page.evaluate(() => (window as any).LiveDesk("close"));
    expect(await page.getByRole("button", { name: "Chat with us" }).getAttribute("aria-expanded")).toBe("false");
    expect(await page.getByRole("region", { name: "Live chat" }).isVisible()).toBe(false);
    await context.close();
  });

  it("keeps the token the iframe sends in the host's storage and hands it back after a reload, never in a URL", async () => {
    const { page, context } = await openDemo();
    await page.getByRole("button", { name: "Chat with us" }).click();
    let frame = await embedFrame(page);
    await send(frame, { type: "livedesk:token", token: "c.conv1.secret-value" });
    await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), `livedesk:token:${deskOrigin}`)).toBe("c.conv1.secret-value");
    await page.reload();
    await page.getByRole("button", { name: "Chat with us" }).click();
    frame = await embedFrame(page);
    expect((await embed(frame)).init.token).toBe("c.conv1.secret-value");
    expect(frame.url()).not.toContain("secret");
    await send(frame, { type: "livedesk:token", token: null });
    await expect.poll(() => page.evaluate((k) => localStorage.getItem(k), `livedesk:token:${deskOrigin}`)).toBe(null);
    await context.close();
  });

  it("ignores messages that do not come from its own iframe", async () => {
    const { page, context } = await openDemo();
    await page.evaluate(() => window.postMessage({ type: "livedesk:open" }, "*"));
    await page.evaluate(() => window.postMessage({ type: "livedesk:token", token: "c.forged.token" }, "*"));
    await page.waitForTimeout(100);
    expect(await page.locator("iframe").count()).toBe(0);
    await page.getByRole("button", { name: "Chat with us" }).click();
    await embedFrame(page);
    await page.evaluate(() => window.postMessage({ type: "livedesk:token", token: "c.forged.token" }, "*"));
    await page.waitForTimeout(100);
    expect(await page.evaluate((k) => localStorage.getItem(k), `livedesk:token:${deskOrigin}`)).toBe(null);
    await context.close();
  });

  it("opens and closes the panel when the iframe asks", async () => {
    const { page, context } = await openDemo();
    await page.getByRole("button", { name: "Chat with us" }).click();
    const frame = await embedFrame(page);
    await send(frame, { type: "livedesk:close" });
    await expect.poll(() => page.getByRole("button", { name: "Chat with us" }).getAttribute("aria-expanded")).toBe("false");
    await send(frame, { type: "livedesk:open" });
    await expect.poll(() => page.getByRole("button", { name: "Chat with us" }).getAttribute("aria-expanded")).toBe("true");
    await page.getByRole("button", { name: "Close chat" }).click();
    expect(await page.getByRole("button", { name: "Chat with us" }).getAttribute("aria-expanded")).toBe("false");
    await context.close();
  });
});

describe("widget routes", () => {
  it("serves widget.js as a cacheable-by-revalidation script any site may load", async () => {
    const res = await fetch(`${deskOrigin}/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/javascript/);
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
  });

  it("lets only allowed origins frame the customer page", async () => {
    const res = await fetch(`${deskOrigin}/?embed=1`);
    expect(res.headers.get("content-security-policy")).toMatch(new RegExp(`frame-ancestors 'self' ${hostUrl}(;|$)`));
  });

  it("serves the demo with its inline stub allowed by hash, and loads the widget only from this desk", async () => {
    const own = await fetch(`${deskOrigin}/demo/`);
    const html = await own.text();
    expect(html).toContain('<script src="/widget.js" async></script>');
    expect(own.headers.get("content-security-policy")).toMatch(/script-src 'self' 'sha256-[^']+' 'sha256-[^']+';/);
    for (const desk of ["https://evil.example", "http://localhost:1", "javascript:alert(1)"]) {
      const res = await fetch(`${deskOrigin}/demo/?desk=${encodeURIComponent(desk)}`);
      expect(await res.text()).toContain('<script src="/widget.js" async></script>');
    }
    const cross = await fetch(`${deskOrigin}/demo/?desk=${encodeURIComponent(hostUrl)}`);
    expect(await cross.text()).toContain(`<script src="${hostUrl}/widget.js" async></script>`);
  });
});

describe("widget co-browse recording", () => {
  it("records nothing until asked, then the host page with inputs, masked and blocked parts hidden", async () => {
    const { page, context } = await openDemo();
    await page.getByLabel("Card number").fill("4111 1111 1111 1111");
    await page.getByRole("button", { name: "Chat with us" }).click();
    const frame = await embedFrame(page);
    await page.waitForTimeout(200);
    expect((await embed(frame)).events).toEqual([]);
    expect(await page.evaluate(() => "LiveDeskRecorder" in window)).toBe(false);

    await send(frame, { type: "livedesk:cobrowse:start", maxBatchBytes: 60 * 1024 });
    await expect.poll(async () => (await embed(frame)).events.some((e: any) => e.type === 2)).toBe(true);
    const recorded = JSON.stringify((await embed(frame)).events);
    expect(recorded).toContain("Wool scarf");
    expect(recorded).not.toContain("4111");
    expect(recorded).not.toContain("Demo Shopper"); // an input's value
    expect(recorded).not.toContain("12 Example Street"); // data-desk-mask
    expect(recorded).not.toContain("ACME-7F3K-22"); // data-desk-block
    expect(recorded).not.toContain("Live chat"); // the widget itself

    await page.getByLabel("Card number").fill("5500 0000 0000 0004");
    await expect.poll(async () => (await embed(frame)).events.filter((e: any) => e.type === 3).length).toBeGreaterThan(0);
    expect(JSON.stringify((await embed(frame)).events)).not.toContain("5500");
    await context.close();
  });

  it("outlines the node the agent points at, takes a new snapshot on resync, and stops on stop", async () => {
    const { page, context } = await openDemo();
    await page.getByRole("button", { name: "Chat with us" }).click();
    const frame = await embedFrame(page);
    await send(frame, { type: "livedesk:cobrowse:start" });
    await expect.poll(async () => (await embed(frame)).events.some((e: any) => e.type === 2)).toBe(true);
    const snapshot = (await embed(frame)).events.find((e: any) => e.type === 2);
    const findId = (node: any, text: string): number | null => {
      if (node.type === 2 && node.tagName === "h2" && node.childNodes?.some((c: any) => c.textContent === text)) return node.id;
      for (const child of node.childNodes ?? []) {
        const id = findId(child, text);
        if (id !== null) return id;
      }
      return null;
    };
    const nodeId = findId(snapshot.data.node, "Rain jacket");
    expect(nodeId).not.toBeNull();

    await send(frame, { type: "livedesk:cobrowse:highlight", nodeId });
    const box = await page.evaluate(() => {
      const root = document.getElementById("livedesk-widget")!.shadowRoot!;
      const outline = [...root.querySelectorAll("div")].find((d) => d.style.position === "fixed")!;
      const target = [...document.querySelectorAll("h2")].find((h) => h.textContent === "Rain jacket")!.getBoundingClientRect();
      return { display: outline.style.display, left: parseFloat(outline.style.left), targetLeft: target.left };
    });
    expect(box.display).toBe("block");
    expect(Math.abs(box.left - (box.targetLeft - 4))).toBeLessThan(2);

    const before = (await embed(frame)).events.filter((e: any) => e.type === 2).length;
    await send(frame, { type: "livedesk:cobrowse:resync" });
    await expect.poll(async () => (await embed(frame)).events.filter((e: any) => e.type === 2).length).toBe(before + 1);

    await send(frame, { type: "livedesk:cobrowse:stop" });
    await page.waitForTimeout(200);
    const count = (await embed(frame)).events.length;
    await page.getByLabel("Full name").fill("Someone Else");
    await page.mouse.move(10, 10);
    await page.waitForTimeout(300);
    expect((await embed(frame)).events.length).toBe(count);
    await context.close();
  });

  it("splits a large page into batches under the limit", async () => {
    const { page, context } = await openDemo();
    await page.evaluate(() => {
      const big = document.createElement("p");
      big.textContent = "lorem ipsum \"quoted\" é ".repeat(12_000);
      document.body.appendChild(big);
    });
    await page.getByRole("button", { name: "Chat with us" }).click();
    const frame = await embedFrame(page);
    await frame.evaluate(() => {
      (window as any).__batches = [];
      addEventListener("message", (e) => e.data?.type === "livedesk:cobrowse:events" && (window as any).__batches.push(JSON.stringify(e.data.events)));
    });
    await send(frame, { type: "livedesk:cobrowse:start", maxBatchBytes: 60 * 1024 });
    await expect.poll(() => frame.evaluate(() => (window as any).__batches.length)).toBeGreaterThan(3);
    const sizes: number[] = await frame.evaluate(() => (window as any).__batches.map((b: string) => new TextEncoder().encode(b).length));
    expect(Math.max(...sizes)).toBeLessThan(60 * 1024);
    await context.close();
  });
});
