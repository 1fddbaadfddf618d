/**
 * The customer page and the agent console in a real Chromium against the real server:
 * one customer and one agent, in two browser contexts, through a whole conversation.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, buildClient, launchChromium, repoRoot, startDesk, type RunningDesk } from "./harness.js";

const AGENT = { email: "maya@example.com", password: "maya-password-1", name: "Maya Chen" };
const CUSTOMER = { name: "Cleo Customer", email: "cleo@example.com", topic: "Billing" };
const FIRST = "Hello, I was charged twice for my invoice this month.";
const XSS = "<img src=x onerror=window.__xss=1><script>window.__xss=1</script>";
const screenshots = join(repoRoot, "docs", "screenshots");

let desk: RunningDesk;
let removeBuild: () => Promise<void>;
let browser: Browser;
let customerContext: BrowserContext;
let agentContext: BrowserContext;
let customer: Page;
let agent: Page;
let other: Page;
const problems: string[] = [];

function watch(page: Page, who: string) {
  page.on("pageerror", (err) => problems.push(`${who}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && /Content Security Policy|Refused to/i.test(msg.text())) {
      problems.push(`${who}: ${msg.text()}`);
    }
  });
}

async function expectAccessible(page: Page, what: string) {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(report, `${what}: accessibility violations`).toEqual([]);
}

/** Screenshots for README are refreshed with DESK_SCREENSHOTS=1, so a plain test run leaves the tree clean. */
const shoot = async (page: Page, name: string) => {
  if (process.env.DESK_SCREENSHOTS === "1") await page.screenshot({ path: join(screenshots, `${name}.png`) });
};
const messages = (page: Page) => page.getByRole("list", { name: "Messages" });
const composer = (page: Page) => page.getByLabel("Type a message");

beforeAll(async () => {
  const built = await buildClient();
  removeBuild = built.remove;
  desk = await startDesk(built.dir);
  await mkdir(screenshots, { recursive: true });

  // A named agent for the console, created by the admin through the API.
  const login = await fetch(`${desk.url}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN),
  }).then((r) => r.json() as Promise<{ token: string }>);
  const created = await fetch(`${desk.url}/api/agents`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${login.token}` },
    body: JSON.stringify(AGENT),
  });
  expect(created.status).toBe(201);

  browser = await launchChromium();
  customerContext = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  agentContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  // Fail a step well before the test's own timeout, with Playwright's account of it.
  customerContext.setDefaultTimeout(10_000);
  agentContext.setDefaultTimeout(10_000);
  customer = await customerContext.newPage();
  agent = await agentContext.newPage();
  watch(customer, "customer");
  watch(agent, "agent");
});

afterAll(async () => {
  await browser?.close();
  await desk?.stop();
  await removeBuild?.();
});

describe("customer and agent in the browser", () => {
  it("should show a validated start form and an accessible login", async () => {
    await customer.goto(desk.url);
    await customer.getByLabel("Name").waitFor();
    await expectAccessible(customer, "customer form");
    await shoot(customer, "customer-form");
    await customer.getByRole("button", { name: "Start chat" }).click();
    await customer.getByText("Please tell us your name.").waitFor();
    await customer.getByText("Please write your question.").waitFor();
    expect(await customer.getByLabel("Name").evaluate((el) => el === document.activeElement)).toBe(true);
    await customer.getByLabel("Email").fill("not-an-address");
    await customer.getByText("This does not look like an email address.").waitFor();
    await customer.getByLabel("Email").fill("");
    await expectAccessible(customer, "customer form with errors");

    await agent.goto(`${desk.url}/agent`);
    await agent.getByLabel("Password").waitFor();
    await shoot(agent, "agent-login");
    await agent.getByLabel("Email").fill(AGENT.email);
    await agent.getByLabel("Password").fill("wrong-password");
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.getByRole("alert").getByText("Wrong email or password.").waitFor();
    await expectAccessible(agent, "agent login");
  });

  it("should put a new customer in the agent's queue live", async () => {
    await agent.getByLabel("Password").fill(AGENT.password);
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.getByRole("heading", { name: /Queue/ }).waitFor();
    await agent.getByText("Nobody is waiting.").waitFor();

    await customer.getByLabel("Name").fill(CUSTOMER.name);
    await customer.getByLabel("Email").fill(CUSTOMER.email);
    await customer.getByLabel("Topic").fill(CUSTOMER.topic);
    await customer.getByLabel("Message").fill(FIRST);
    await customer.getByRole("button", { name: "Start chat" }).click();
    await customer.getByText("You are 1st in line").waitFor();
    await customer.waitForFunction(() => document.activeElement?.getAttribute("placeholder") === "Type a message…");
    await messages(customer).getByText(FIRST).waitFor();

    const queued = agent.getByRole("navigation").getByRole("button", { name: new RegExp(CUSTOMER.name) });
    await queued.waitFor();
    await expect(queued.textContent()).resolves.toContain(CUSTOMER.topic);
    await expect(queued.textContent()).resolves.toMatch(/waiting \d+s/);
    await agent.waitForFunction(() => document.title === "(1) livedesk");
    await shoot(customer, "customer-queued");
  });

  it("should let the agent preview, claim, and talk both ways with typing shown", async () => {
    await agent.getByRole("navigation").getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    await messages(agent).getByText(FIRST).waitFor();
    await agent.getByText("Preview: claim this conversation to reply.").waitFor();
    await shoot(agent, "agent-queue-preview");
    await agent.waitForFunction(() => document.title === "livedesk");

    await agent.getByRole("button", { name: "Claim" }).click();
    await agent.getByText("Assigned to you").waitFor();
    await customer.getByRole("heading", { name: AGENT.name }).waitFor();
    await agent.getByRole("navigation").getByText("Nobody is waiting.").waitFor();

    await composer(agent).pressSequentially("Hi Cleo");
    await customer.getByText(`${AGENT.name} is typing…`).waitFor();
    await composer(agent).pressSequentially(", sorry about that. Let me check.");
    await composer(agent).press("Enter");
    await messages(customer).getByText("Hi Cleo, sorry about that. Let me check.").waitFor();
    await customer.getByText(`${AGENT.name} is typing…`).waitFor({ state: "hidden" });

    await composer(customer).pressSequentially("Thanks! It is");
    await agent.getByText(`${CUSTOMER.name} is typing…`).waitFor();
    await composer(customer).press("Shift+Enter");
    await composer(customer).pressSequentially("invoice https://example.com/invoices/42.");
    await composer(customer).press("Enter");
    const reply = messages(agent).getByText(/Thanks! It is\s+invoice/);
    await reply.waitFor();
    const link = messages(agent).getByRole("link", { name: "https://example.com/invoices/42" });
    await expect(link.getAttribute("rel")).resolves.toBe("noopener noreferrer");
    await expect(link.getAttribute("target")).resolves.toBe("_blank");
    await messages(customer).getByText("Sent").last().waitFor();
  });

  it("should show HTML and script in a message as literal text", async () => {
    await composer(customer).fill(XSS);
    await composer(customer).press("Enter");
    await messages(agent).getByText(XSS, { exact: true }).waitFor();
    await messages(customer).getByText(XSS, { exact: true }).waitFor();
    for (const page of [agent, customer]) {
      expect(await page.evaluate(() => (window as { __xss?: unknown }).__xss)).toBeUndefined();
      expect(await messages(page).locator("img, script").count()).toBe(0);
    }
  });

  it("should show the agent's away switch to the customer", async () => {
    await agent.getByLabel("Your status").selectOption("away");
    await customer.getByText("Away", { exact: true }).waitFor();
    await agent.getByRole("navigation").getByRole("listitem").filter({ hasText: AGENT.name }).getByText("Away").waitFor();
    await agent.getByLabel("Your status").selectOption("online");
    await customer.getByText("Online", { exact: true }).waitFor();
  });

  it("should show reconnecting while offline and deliver what was written meanwhile", async () => {
    await customerContext.setOffline(true);
    await customer.getByText("Reconnecting…").waitFor();
    await composer(customer).fill("Written while offline");
    await composer(customer).press("Enter");
    await messages(customer).getByText("Sending…").waitFor();
    await customerContext.setOffline(false);
    await messages(agent).getByText("Written while offline").waitFor();
    await customer.getByText("Reconnecting…").waitFor({ state: "hidden" });
    await messages(customer).getByText("Sent").waitFor();
    await expect(messages(agent).getByText("Written while offline").count()).resolves.toBe(1);
  });

  it("should count unread messages of other conversations, in the list and the title", async () => {
    const second = await browser.newContext();
    second.setDefaultTimeout(10_000);
    other = await second.newPage();
    watch(other, "second customer");
    await other.goto(desk.url);
    await other.getByLabel("Name").fill("Dev Second");
    await other.getByLabel("Message").fill("Is the shop open on Sunday?");
    await other.getByRole("button", { name: "Start chat" }).click();
    await agent.waitForFunction(() => document.title === "(1) livedesk");
    const nav = agent.getByRole("navigation");
    await nav.getByRole("button", { name: /Dev Second/ }).click();
    await agent.getByRole("button", { name: "Claim" }).click();
    await other.getByRole("heading", { name: AGENT.name }).waitFor();

    await nav.getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    await messages(agent).getByText(FIRST).waitFor();
    await composer(other).fill("Hello?");
    await composer(other).press("Enter");
    await composer(other).fill("Anyone there?");
    await composer(other).press("Enter");
    await nav.getByRole("button", { name: /Dev Second.*2 unread/ }).waitFor();
    await agent.waitForFunction(() => document.title === "(2) livedesk");

    await nav.getByRole("button", { name: /Dev Second/ }).click();
    await messages(agent).getByText("Anyone there?").waitFor();
    await agent.waitForFunction(() => document.title === "livedesk");
    await nav.getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    await messages(agent).getByText(FIRST).waitFor();
  });

  it("should pass an accessibility scan of the chat pane and the console, on desktop and phone", async () => {
    await expectAccessible(customer, "customer chat");
    await expectAccessible(agent, "agent console");
    await shoot(customer, "customer-chat");
    await shoot(agent, "agent-console");

    await customer.setViewportSize({ width: 375, height: 740 });
    await composer(customer).waitFor();
    const overflow = await customer.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await expectAccessible(customer, "customer chat at 375 px");
    await shoot(customer, "customer-chat-mobile");
    await customer.setViewportSize({ width: 1100, height: 760 });

    // The console on a phone: one column, the open conversation first, "Back" to the lists.
    await agent.setViewportSize({ width: 375, height: 740 });
    await composer(agent).waitFor();
    expect(await agent.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await shoot(agent, "agent-console-mobile");
    await agent.getByRole("button", { name: "Back" }).click();
    await agent.getByRole("heading", { name: /My conversations/ }).waitFor();
    await expectAccessible(agent, "agent lists at 375 px");
    await agent.setViewportSize({ width: 1280, height: 800 });
    await agent.getByRole("navigation").getByRole("button", { name: new RegExp(CUSTOMER.name) }).click();
    await composer(agent).waitFor();
  });

  it("should resume both sides after a reload", async () => {
    await customer.reload();
    await customer.getByRole("heading", { name: AGENT.name }).waitFor();
    await messages(customer).getByText(FIRST).waitFor();
    await messages(customer).getByText(XSS, { exact: true }).waitFor();
    await expect(messages(customer).getByText(FIRST).count()).resolves.toBe(1);

    await agent.reload();
    const mine = agent.getByRole("region", { name: /My conversations/ }).getByRole("button", { name: new RegExp(CUSTOMER.name) });
    await mine.click();
    await messages(agent).getByText(FIRST).waitFor();
    await agent.getByText("Assigned to you").waitFor();

    // The resumed sockets still carry messages both ways.
    await composer(customer).fill("Are you still there?");
    await composer(customer).press("Enter");
    await messages(agent).getByText("Are you still there?").waitFor();
  });

  it("should show the close to both sides", async () => {
    await agent.getByRole("button", { name: "Close" }).click();
    await agent.getByText("This conversation is closed.").waitFor();
    await customer.getByText("This chat has ended.").waitFor();
    await expect(composer(customer).count()).resolves.toBe(0);
    await agent
      .getByRole("region", { name: /My conversations/ })
      .getByRole("button", { name: new RegExp(CUSTOMER.name) })
      .waitFor({ state: "detached" });

    // The customer may end a chat too, after confirming.
    await other.getByRole("button", { name: "End chat" }).click();
    await other.getByRole("button", { name: "Keep chatting" }).click();
    await other.getByRole("button", { name: "End chat" }).click();
    await other.getByRole("button", { name: "Yes, end chat" }).click();
    await other.getByText("This chat has ended.").waitFor();
    await agent.getByRole("navigation").getByRole("button", { name: /Dev Second/ }).waitFor({ state: "detached" });
    await other.context().close();

    await customer.getByRole("button", { name: "Start a new chat" }).click();
    await customer.getByLabel("Name").waitFor();
    expect(await customer.evaluate(() => localStorage.getItem("livedesk.customerToken"))).toBeNull();
  });

  it("should log the agent out and keep them out after a reload", async () => {
    await agent.getByRole("button", { name: "Log out" }).click();
    await agent.getByLabel("Password").waitFor();
    await agent.reload();
    await agent.getByLabel("Password").waitFor();
    expect(problems).toEqual([]);
  });
});
