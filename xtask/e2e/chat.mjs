// The chat example in a real browser: `cargo xtask e2e` runs
//
//     node xtask/e2e/chat.mjs http://127.0.0.1:PORT
//
// with E2E_MODULES (the node_modules holding playwright-core) and E2E_OUT
// (where screenshots go) set. Two pages in two browser contexts (two
// visitors): names, a message each way over the WebSocket, the presence
// counter over SSE (2 on both, then 1 on A once B closes). Every wait is
// bounded by STEP_MS. Progress goes to stderr; stdout gets one JSON line
// (versions, checks with timings, error), which the xtask turns into
// docs/e2e/chat.md. Exits 1 on failure, after screenshots of the pages.

import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import path from "node:path";

const STEP_MS = 10_000;
const WHOLE_RUN_MS = 120_000;

const base = process.argv[2];
const modules = process.env.E2E_MODULES;
const out = process.env.E2E_OUT;
if (!base || !modules || !out) {
  console.error("usage: E2E_MODULES=DIR E2E_OUT=DIR node chat.mjs http://127.0.0.1:PORT");
  process.exit(2);
}
const require = createRequire(path.join(modules, "..", "package.json"));
const { chromium } = require("playwright-core");
const playwrightVersion = JSON.parse(
  readFileSync(path.join(modules, "playwright-core", "package.json"), "utf8"),
).version;

// A run that hangs in a way no bounded wait catches still ends.
setTimeout(() => {
  console.error(`e2e: the whole run exceeded ${WHOLE_RUN_MS} ms`);
  process.exit(1);
}, WHOLE_RUN_MS).unref();

const result = { playwright: playwrightVersion, chromium: null, checks: [], screenshots: [], error: null };
const pages = {};

/** Runs one named check, timing it; a failure names the check. */
async function check(name, body) {
  const started = performance.now();
  try {
    await body();
  } catch (error) {
    throw new Error(`${name}: ${error.message.split("\n")[0]}`);
  }
  const ms = Math.round(performance.now() - started);
  result.checks.push({ name, ms });
  console.error(`  ok  ${name} (${ms} ms)`);
}

/** Waits until `#online` on `page` reads `count`. */
async function presence(page, count) {
  await page.waitForFunction(
    (want) => document.getElementById("online")?.textContent === want,
    String(count),
    { timeout: STEP_MS },
  );
}

/** Waits for a log line of `className` containing `text` on `page`. */
async function logged(page, className, text) {
  await page.locator(`#log li.${className}`, { hasText: text }).first().waitFor({ timeout: STEP_MS });
}

/** Types `text` as `page`'s visitor and sends it. */
async function say(page, text) {
  await page.fill("#text", text);
  await page.click("#send");
}

async function screenshots(suffix) {
  for (const [name, page] of Object.entries(pages)) {
    if (page.isClosed()) continue;
    const file = path.join(out, `chat-${name}-${suffix}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: STEP_MS });
      result.screenshots.push(file);
    } catch (error) {
      console.error(`e2e: screenshot ${file} failed: ${error.message}`);
    }
  }
}

let browser;
try {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    timeout: 30_000,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  result.chromium = browser.version();
  console.error(`e2e: Chromium ${result.chromium}, playwright-core ${playwrightVersion}, ${base}`);

  const open = async (name) => {
    const context = await browser.newContext();
    context.setDefaultTimeout(STEP_MS);
    const page = await context.newPage();
    page.on("pageerror", (error) => console.error(`e2e: page ${name} threw: ${error.message}`));
    pages[name] = page;
    await page.goto(base, { timeout: STEP_MS });
    await page.locator("#status", { hasText: /^connected$/ }).waitFor({ timeout: STEP_MS });
    return page;
  };

  let a, b;
  await check("page A loads and its WebSocket connects", async () => { a = await open("a"); });
  await check("page B (second browser context) loads and connects", async () => { b = await open("b"); });
  await check("presence counter shows 2 on both pages (SSE)", async () => {
    await presence(a, 2);
    await presence(b, 2);
  });

  await a.fill("#name", "Ada");
  await b.fill("#name", "Bob");
  const hello = `hello from Ada ${Date.now()}`;
  await check("a message sent on page A appears in B's log and in A's", async () => {
    await say(a, hello);
    await logged(b, "msg", hello);
    await logged(a, "msg", hello);
  });
  await check("page B sees `Ada joined` (SSE)", async () => { await logged(b, "event", "Ada joined"); });
  const reply = `hi Ada, Bob here ${Date.now()}`;
  await check("a reply from page B appears in A's log", async () => {
    await say(b, reply);
    await logged(a, "msg", reply);
  });
  await check("invalid input on page B gets an error there only", async () => {
    await b.fill("#name", "   ");
    await say(b, "no name");
    await logged(b, "error", "name must not be empty");
    await b.fill("#name", "Bob");
  });
  await screenshots("ok");

  await check("closing page B drops A's presence counter to 1 (SSE)", async () => {
    await b.context().close();
    await presence(a, 1);
  });
  await check("page A sees `Bob left` (SSE)", async () => { await logged(a, "event", "Bob left"); });
  if ((await a.locator("#log li.error").count()) !== 0) {
    throw new Error("page A shows an error it should not");
  }
  await screenshots("end");
} catch (error) {
  result.error = error.message;
  console.error(`e2e: FAILED: ${error.message}`);
  await screenshots("failure");
  process.exitCode = 1;
} finally {
  if (browser) await browser.close().catch(() => {});
  console.log(JSON.stringify(result));
}
