import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

/*
 * Headless Chromium (Debian's) for the browser tests, with every request that would leave the
 * machine blocked and recorded: pages must work from the gateway's own assets. Each context
 * also records what its pages complained about (console errors, uncaught exceptions, Content
 * Security Policy violations).
 */

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(process.cwd(), '.trunkline', 'artifacts', 'ui');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface GuardedContext {
  context: BrowserContext;
  /** Requests to anywhere but the loopback, aborted. */
  blocked: string[];
  /** Console errors and uncaught exceptions of its pages. */
  problems: string[];
  newPage(): Promise<Page>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function guardedContext(browser: Browser, options: BrowserContextOptions = {}): Promise<GuardedContext> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 }, ...options });
  const blocked: string[] = [];
  const problems: string[] = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    const { protocol, hostname } = new URL(url);
    if ((protocol === 'http:' || protocol === 'https:' || protocol === 'ws:' || protocol === 'wss:') && LOOPBACK.has(hostname))
      return route.continue();
    blocked.push(url);
    return route.abort('blockedbyclient');
  });
  return {
    context,
    blocked,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()}`);
      });
      page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
      return page;
    },
  };
}

/** A screenshot (of the whole page unless told) as a test artifact: .trunkline/artifacts/ui/<name>.png. */
export async function screenshot(page: Page, name: string, { fullPage = true } = {}): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  // Two frames: what was just drawn (cytoscape paints on animation frames) is on screen.
  await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
  await page.screenshot({ path, fullPage });
  return path;
}
