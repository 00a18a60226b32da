/**
 * What the page's browser tests share: Debian's chromium under playwright-core, kept off
 * the network, and a record of every request, console error and page error it saw.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { CHROMIUM } from '../helpers/peers.js';

/** Flags that keep Chromium off the network and quiet: no updates, sync, QUIC or first-run calls. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Starts headless Chromium. */
export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

/** A page and what it did. */
export interface WatchedPage {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every request URL the context made (pages, fetches, sub-resources), in order. */
  readonly requests: { url: string; method: string; postData: string | null }[];
  /** Console messages of type error, and uncaught page errors. */
  readonly errors: string[];
}

/** A new context and page whose requests and errors are recorded. */
export async function watchedPage(browser: Browser, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  const requests: WatchedPage['requests'] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push({ url: r.url(), method: r.method(), postData: r.postData() }));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { context, page, requests, errors };
}

/** True when a URL stays on this machine (loopback), or is no network request at all (data:, about:). */
export function staysLocal(url: string): boolean {
  const u = new URL(url);
  if (u.protocol === 'data:' || u.protocol === 'about:' || u.protocol === 'blob:') return true;
  return (u.protocol === 'http:' || u.protocol === 'https:') && (/^127\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === 'localhost' || u.hostname === '[::1]');
}

/** Where screenshots go: $LARDER_UI_ARTIFACTS, or .tap/ui-screenshots in the repo. */
export function artifactDir(): string {
  const dir = process.env['LARDER_UI_ARTIFACTS'] ?? join(process.cwd(), '.tap', 'ui-screenshots');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The form parameters of a recorded POST to the API. */
export function formOf(postData: string | null): URLSearchParams {
  return new URLSearchParams(postData ?? '');
}
