// Debian's chromium driven by playwright-core (no browser download), headless, with a fresh
// profile per launch. Screenshots of failed tests go to build/web-test-results/.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const appDist = join(repoRoot, 'web', 'app', 'dist');
export const resultsDir = join(repoRoot, 'build', 'web-test-results');

export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) throw new Error(`${executablePath} not found: apt-get install chromium (scripts/install-deps.sh)`);
  if (!existsSync(join(appDist, 'index.html'))) throw new Error(`${appDist} has no build: run scripts/build-web.sh`);
  return chromium.launch({
    executablePath,
    headless: true,
    // Playwright gives each launch a new empty profile (--user-data-dir in a temp folder).
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Runs `body`; on failure saves a full-page screenshot of each page, then rethrows. */
export async function withScreenshots(name: string, pages: () => Page[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    mkdirSync(resultsDir, { recursive: true });
    const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    const saved: string[] = [];
    for (const [i, page] of pages().entries()) {
      const file = join(resultsDir, `${slug}-${i}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 5000 });
        saved.push(file);
        // What a screen reader would get, for failures a picture does not explain.
        writeFileSync(join(resultsDir, `${slug}-${i}.aria.txt`), await page.locator('body').ariaSnapshot({ timeout: 5000 }));
      } catch {
        // the page may be gone
      }
    }
    if (saved.length && e instanceof Error) e.message += `\nscreenshots: ${saved.join(', ')}`;
    throw e;
  }
}
