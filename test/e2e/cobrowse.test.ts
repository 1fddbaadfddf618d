/**
 * Remote assistance end to end (SPEC section 8): a shop page on one origin (localhost)
 * embeds the desk from another (127.0.0.1); two desk instances share one Redis. The
 * customer allows co-browse inside the widget, the assignee watches the mirror in the
 * console, points at things, and either side ends it.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type FrameLocator, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, call, connectSocket, type Client } from "../helpers/desk.js";
import { startInstance, type Instance } from "../helpers/instances.js";
import { freePort, startRedis, type RedisHandle } from "../helpers/redis.js";
import { ADMIN, buildClient, CHROMIUM_ARGS, repoRoot } from "./harness.js";

const MAYA = { email: "maya.cobrowse@example.com", password: "maya-password-1", name: "Maya Chen" };
const OMAR = { email: "omar.cobrowse@example.com", password: "omar-password-1", name: "Omar Diaz" };
const CARD = "4111 1111 1111 1111";
const SECRETS = ["4111", "12 Example Street", "ACME-7F3K-22"];
const screenshots = join(repoRoot, "docs", "screenshots");

let redis: RedisHandle;
let a: Instance;
let b: Instance;
let removeBuild: () => Promise<void>;
let browser: Browser;
let hostContext: BrowserContext;
let host: Page;
let agent: Page;
let agentWire: Wire;
let hostUrl: string;
let deskA: string;
let deskB: string;
const problems: string[] = [];
const clients: Client[] = [];

/** Everything a page receives from the desk's Socket.IO, over WebSocket frames and polling responses alike. */
interface Wire {
  text(): string;
  mark(): number;
  since(mark: number): string;
}
function tap(page: Page): Wire {
  const chunks: string[] = [];
  page.on("websocket", (ws) => ws.on("framereceived", (f) => chunks.push(typeof f.payload === "string" ? f.payload : f.payload.toString())));
  page.on("response", (r) => {
    if (r.url().includes("/socket.io/") && r.request().method() === "GET") r.text().then((t) => chunks.push(t), () => undefined);
  });
  return { text: () => chunks.join("\n"), mark: () => chunks.length, since: (m) => chunks.slice(m).join("\n") };
}

function watch(page: Page, who: string) {
  page.on("pageerror", (err) => problems.push(`${who}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`${who}: ${msg.text()}`);
  });
}

const shoot = async (page: Page, name: string) => {
  if (process.env.DESK_SCREENSHOTS === "1") await page.screenshot({ path: join(screenshots, `${name}.png`) });
};

async function newPage(viewport = { width: 1280, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  watch(page, `page ${problems.length}`);
  return page;
}

async function signIn(page: Page, desk: string, who: typeof MAYA) {
  await page.goto(`${desk}/agent`);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: /Queue/ }).waitFor();
}

const chat = (): FrameLocator => host.frameLocator('iframe[title="Live chat"]');
const panel = (page: Page) => page.getByRole("region", { name: "Customer's screen" });
const mirror = (page: Page): FrameLocator => panel(page).frameLocator("iframe");
const agentState = (page: Page, text: string | RegExp, timeout?: number) =>
  panel(page).getByRole("status").filter({ hasText: text }).waitFor({ timeout });
const banner = () => chat().getByText("Your agent can see this page");

/** The assignee asks, the customer allows in the widget. */
async function startSession() {
  await agent.getByRole("button", { name: "See customer's screen" }).click();
  await chat().getByRole("alertdialog", { name: /asks to see your screen/ }).waitFor();
  await chat().getByRole("button", { name: "Allow" }).click();
  await banner().waitFor();
  await agentState(agent, "Live");
}

const customerToken = () => host.evaluate((key) => localStorage.getItem(key), `livedesk:token:${deskA}`);
async function customerSocket(): Promise<Client> {
  const socket = await connectSocket(deskA, { customerToken: await customerToken() });
  clients.push(socket);
  return socket;
}

beforeAll(async () => {
  const built = await buildClient();
  removeBuild = built.remove;
  await build({ configFile: join(repoRoot, "vite.widget.config.ts"), logLevel: "warn", build: { outDir: built.dir } });
  await mkdir(screenshots, { recursive: true });

  redis = await startRedis();
  const [portA, portB] = [await freePort(), await freePort()];
  hostUrl = `http://localhost:${portA}`;
  const env = { REDIS_URL: redis.url, DESK_CLIENT_DIR: built.dir, DESK_SERVE_DEMO: "1", DESK_ALLOWED_ORIGINS: hostUrl };
  [a, b] = await Promise.all([startInstance({ ...env, PORT: String(portA) }), startInstance({ ...env, PORT: String(portB) })]);
  // PORT overrides the port the helper picked: the host origin must be known before start.
  [deskA, deskB] = [`http://127.0.0.1:${portA}`, `http://127.0.0.1:${portB}`];

  const admin = await api(deskA, "/api/auth/login", { body: ADMIN });
  for (const who of [MAYA, OMAR]) {
    const res = await api(deskA, "/api/agents", { body: who, token: admin.body.token });
    expect(res.status).toBe(201);
  }

  // localhost is the host site, 127.0.0.1 the desk: one server, two origins.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, "--host-resolver-rules=MAP localhost 127.0.0.1"],
  });
  hostContext = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  hostContext.setDefaultTimeout(10_000);
  host = await hostContext.newPage();
  watch(host, "host page");
  agent = await newPage();
  agentWire = tap(agent);
}, 90_000);

afterAll(async () => {
  for (const socket of clients) socket.disconnect();
  await browser?.close();
  await Promise.all([a?.stop(), b?.stop()]);
  await redis?.stop();
  await removeBuild?.();
});

describe("co-browse through the widget", () => {
  it("sends the agent nothing of the page before the customer allows, and refuses the customer's events", async () => {
    await host.goto(`${hostUrl}/demo/?desk=${encodeURIComponent(deskA)}`);
    await host.getByRole("button", { name: "Chat with us" }).click();
    // The identify call of the page prefilled the form.
    await expect.poll(() => chat().getByLabel("Name").inputValue()).toBe("Demo Shopper");
    await chat().getByLabel("Message").fill("My card is refused at checkout.");
    await chat().getByRole("button", { name: "Start chat" }).click();
    await chat().getByText("You are 1st in line").waitFor();
    expect(await customerToken()).toMatch(/.+/);
    await host.getByLabel("Card number").fill(CARD);

    await signIn(agent, deskA, MAYA);
    await agent.getByRole("navigation").getByRole("button", { name: /Demo Shopper/ }).click();
    await agent.getByRole("button", { name: "Claim" }).click();
    await agent.getByText("Assigned to you").waitFor();
    await chat().getByRole("heading", { name: MAYA.name }).waitFor();

    await agent.getByRole("button", { name: "See customer's screen" }).click();
    await agentState(agent, /Waiting for Demo Shopper to allow/);
    const prompt = chat().getByRole("alertdialog", { name: /Maya Chen asks to see your screen/ });
    await prompt.waitFor();
    await prompt.getByText("What you type in fields is hidden from them").waitFor();

    const socket = await customerSocket();
    const ack = await call(socket, "cobrowse:events", { events: [{ type: 3, data: { source: 1 }, timestamp: Date.now() }] });
    expect(ack).toMatchObject({ ok: false, error: { code: "forbidden" } });
    expect(await host.evaluate(() => "LiveDeskRecorder" in window)).toBe(false);
    expect(agentWire.text()).not.toContain("cobrowse:events");
    expect(agentWire.text()).not.toContain("Autumn collection");
  });

  it("shows the host page in the agent's mirror within 3 s of allowing, and what changes within 1.5 s", async () => {
    const mark = agentWire.mark();
    const allowed = Date.now();
    await chat().getByRole("button", { name: "Allow" }).click();
    await mirror(agent).getByRole("heading", { name: "Autumn collection" }).waitFor({ timeout: 3_000 });
    expect(Date.now() - allowed).toBeLessThan(3_000);
    await agentState(agent, "Live");
    await banner().waitFor();
    expect(agentWire.since(mark)).toContain("cobrowse:events");

    await host.evaluate(() => {
      const p = document.createElement("p");
      p.textContent = "Added while the agent watches";
      document.querySelector("main")!.appendChild(p);
    });
    await mirror(agent).getByText("Added while the agent watches").waitFor({ timeout: 1_500 });

    // A customer socket other than the tab that allowed may not stream.
    const socket = await customerSocket();
    const ack = await call(socket, "cobrowse:events", { events: [{ type: 3, data: { source: 1 }, timestamp: Date.now() }] });
    expect(ack).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("never lets a typed card number or masked and blocked text reach the agent", async () => {
    await host.getByLabel("Card number").fill("");
    await host.getByLabel("Card number").pressSequentially(CARD);
    // Inputs are recorded when the customer leaves them (rrweb's `input: "last"` sampling).
    await host.getByLabel("Card number").press("Tab");
    const card = mirror(agent).locator('input[name="card"]');
    await expect.poll(() => card.inputValue(), { timeout: 3_000 }).toBe("*".repeat(CARD.length));
    await mirror(agent).getByText("Delivery address:").waitFor();
    const html = await mirror(agent).locator("html").evaluate((el) => {
      const values = [...el.querySelectorAll("input, textarea")].map((i) => (i as HTMLInputElement).value);
      return el.outerHTML + values.join("\n");
    });
    for (const secret of SECRETS) {
      expect(html).not.toContain(secret);
      expect(agentWire.text()).not.toContain(secret);
    }
    // The blocked offer is a placeholder, the masked address is asterisks.
    expect(html).not.toContain("personal offer code");
    expect(html).toMatch(/\*{6,}/);
  });

  it("outlines on the customer's page what the agent points at, within 1 s, and never streams the outline", async () => {
    await agent.getByRole("button", { name: "Point at something" }).click();
    const jacket = mirror(agent).getByRole("heading", { name: "Rain jacket" });
    const box = (await jacket.boundingBox())!;
    const mark = agentWire.mark();
    const clicked = Date.now();
    await agent.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const outline = () =>
      host.evaluate(() => {
        const root = document.getElementById("livedesk-widget")!.shadowRoot!;
        const box = [...root.querySelectorAll("div")].find((d) => d.style.position === "fixed" && d.style.display === "block");
        const target = [...document.querySelectorAll("h2")].find((h) => h.textContent === "Rain jacket")!.getBoundingClientRect();
        return box ? Math.abs(parseFloat(box.style.left) - (target.left - 4)) < 2 && Math.abs(parseFloat(box.style.top) - (target.top - 4)) < 2 : false;
      });
    await expect.poll(outline, { timeout: 1_000, interval: 50 }).toBe(true);
    expect(Date.now() - clicked).toBeLessThan(1_000);
    if (process.env.DESK_SCREENSHOTS === "1") {
      // The outline scrolls its element into view smoothly: shoot once the page and the mirror are still.
      await host.waitForFunction(() => {
        const root = document.getElementById("livedesk-widget")!.shadowRoot!;
        const box = [...root.querySelectorAll("div")].find((d) => d.style.display === "block")?.getBoundingClientRect();
        const target = [...document.querySelectorAll("h2")].find((h) => h.textContent === "Rain jacket")!.getBoundingClientRect();
        return !!box && Math.abs(box.top + 4 - target.top) < 1 && Math.abs(box.left + 4 - target.left) < 1;
      });
      const y = await host.evaluate(() => scrollY);
      await expect.poll(() => mirror(agent).locator("html").evaluate((el) => el.ownerDocument.defaultView!.scrollY)).toBe(y);
      await shoot(host, "cobrowse-customer");
      await shoot(agent, "cobrowse-agent");
    }

    // Something happens on the page after the outline appeared: it is streamed, the outline is not.
    await host.mouse.move(200, 200);
    await host.mouse.move(260, 240);
    await expect.poll(() => agentWire.since(mark).includes("cobrowse:events")).toBe(true);
    // The outline's colour, in any form, never reached the agent's browser.
    expect(agentWire.text()).not.toMatch(/245,\s*158,\s*11|f59e0b/i);
    expect(await mirror(agent).locator('[style*="245, 158, 11"], [style*="f59e0b"]').count()).toBe(0);
    await agent.getByRole("button", { name: /Pointing/ }).click();
  });

  it("gives the assignee's second tab, on the other instance, the live page; a non-assignee gets nothing", async () => {
    const second = await newPage();
    const omar = await newPage();
    const omarWire = tap(omar);
    await signIn(second, deskB, MAYA);
    await second.getByRole("region", { name: /My conversations/ }).getByRole("button", { name: /Demo Shopper/ }).click();
    await mirror(second).getByRole("heading", { name: "Autumn collection" }).waitFor({ timeout: 5_000 });
    await agentState(second, "Live");

    // Omar, another agent on the same instance, reads the conversation (any agent may) and tries his luck.
    await signIn(omar, deskB, OMAR);
    const customer = await customerSocket();
    const { conversation } = await call(customer, "history", {});
    const omarLogin = await api(deskB, "/api/auth/login", { body: OMAR });
    const omarSocket = await connectSocket(deskB, { agentToken: omarLogin.body.token });
    clients.push(omarSocket);
    const seen: unknown[] = [];
    omarSocket.on("cobrowse:events", (e) => seen.push(e));
    omarSocket.on("cobrowse:highlight", (e) => seen.push(e));
    expect((await call(omarSocket, "history", { conversationId: conversation.id })).ok).toBe(true);
    for (const [event, payload] of [
      ["cobrowse:resync", { conversationId: conversation.id }],
      ["cobrowse:highlight", { conversationId: conversation.id, nodeId: 1 }],
      ["cobrowse:request", { conversationId: conversation.id }],
    ] as const) {
      expect(await call(omarSocket, event, payload as never)).toMatchObject({ ok: false, error: { code: "forbidden" } });
    }

    await host.evaluate(() => document.querySelector("h1")!.append(" — now on sale"));
    await mirror(second).getByRole("heading", { name: /now on sale/ }).waitFor();
    await mirror(agent).getByRole("heading", { name: /now on sale/ }).waitFor();
    expect(seen).toEqual([]);
    expect(omarWire.text()).not.toContain("cobrowse:events");
    expect(omarWire.text()).not.toContain("now on sale");
    await omar.context().close();
    await second.context().close();
  });

  it("ends for both within 1 s when the customer stops, and when the agent stops", async () => {
    let t = Date.now();
    await chat().getByRole("button", { name: "Stop" }).click();
    await agentState(agent, "Ended (stopped)", 1_000);
    await banner().waitFor({ state: "hidden", timeout: 1_000 });
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(await panel(agent).locator("iframe").count()).toBe(0);

    await startSession();
    t = Date.now();
    await panel(agent).getByRole("button", { name: "Stop" }).click();
    await banner().waitFor({ state: "hidden", timeout: 1_000 });
    await agentState(agent, "Ended (stopped)", 1_000);
    expect(Date.now() - t).toBeLessThan(1_000);
  });

  it("ends for both within 1 s when the customer leaves the page, and asks again after a reload", async () => {
    await startSession();
    const t = Date.now();
    await host.reload();
    await agentState(agent, "Ended (the customer left the page)", 1_000);
    expect(Date.now() - t).toBeLessThan(1_000);
    await host.getByRole("button", { name: "Chat with us" }).click();
    await chat().getByRole("heading", { name: MAYA.name }).waitFor();
    await expect(chat().getByText("Your agent can see this page").count()).resolves.toBe(0);
  });

  it("ends for both within 1 s when the conversation is closed", async () => {
    await startSession();
    const t = Date.now();
    await agent.getByRole("button", { name: "Close", exact: true }).click();
    await agentState(agent, "Ended (conversation closed)", 1_000);
    await banner().waitFor({ state: "hidden", timeout: 1_000 });
    expect(Date.now() - t).toBeLessThan(1_000);
    await chat().getByText("This chat has ended.").waitFor();
    expect(problems).toEqual([]);
  });
});

describe("co-browse of the desk's own customer page", () => {
  it("mirrors `/` after consent, masks the draft in the composer, outlines what the agent points at", async () => {
    const customer = await newPage({ width: 1000, height: 700 });
    await customer.goto(deskA);
    await customer.getByLabel("Name").fill("Sol Standalone");
    await customer.getByLabel("Message").fill("Where do I find my invoices?");
    await customer.getByRole("button", { name: "Start chat" }).click();
    await agent.getByRole("navigation").getByRole("button", { name: /Sol Standalone/ }).click();
    await agent.getByRole("button", { name: "Claim" }).click();
    await customer.getByRole("heading", { name: MAYA.name }).waitFor();

    await agent.getByRole("button", { name: "See customer's screen" }).click();
    await customer.getByRole("alertdialog", { name: /asks to see your screen/ }).getByRole("button", { name: "Allow" }).click();
    await mirror(agent).getByText("Where do I find my invoices?").waitFor({ timeout: 3_000 });
    await customer.getByText("Your agent can see this page").waitFor();

    const draft = "my password is hunter2";
    await customer.getByLabel("Type a message").fill(draft);
    await customer.getByLabel("Type a message").press("Tab");
    await expect.poll(() => mirror(agent).locator("textarea").inputValue()).toBe("*".repeat(draft.length));
    expect(agentWire.text()).not.toContain("hunter2");

    await agent.getByRole("button", { name: "Point at something" }).click();
    const box = (await mirror(agent).getByText("Where do I find my invoices?").boundingBox())!;
    await agent.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    const outline = () =>
      customer.evaluate(() => document.getElementById("livedesk-cobrowse-layer")?.shadowRoot?.querySelector("div")?.style.display);
    await expect.poll(outline, { timeout: 1_000, interval: 50 }).toBe("block");

    await customer.getByRole("button", { name: "Stop" }).click();
    await agentState(agent, "Ended (stopped)", 1_000);
    expect(await customer.locator("#livedesk-cobrowse-layer").count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
