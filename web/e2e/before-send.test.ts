// The before-send hook in chromium against the real server (docs/bots.md, "Before-send hook"):
// set, rotated and removed through /admin, with its secret read off the page; a hook in this
// process verifies every call with that secret and judges the text; in the chat a rejected send
// shows the hook's reason and is not stored, a rewritten one shows the rewritten text.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { ParleyServer } from '../sdk/src/server.js';
import type { BeforeSendAnswer, BeforeSendPayload } from '../sdk/src/types.js';
import { verifyWebhook } from '../sdk/src/webhooks.js';
import { ParleyProcess, waitFor, type DemoCredentials } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

const REASON = 'no swearing here';

let server: ParleyProcess;
let demo: DemoCredentials;
let app: ParleyServer;
let browser: Browser;
let hook: Server;
let hookUrl: string;
/** What the hook verifies with: the secret the admin page showed. */
let secret = '';
const calls: { verified: boolean; text?: string }[] = [];
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

/** Rejects texts starting with "no", answers "shout …" upper-cased, allows the rest. */
function judge(text: string): BeforeSendAnswer {
  if (text.startsWith('no')) return { action: 'reject', reason: REASON };
  if (text.startsWith('shout ')) return { action: 'rewrite', text: text.toUpperCase() };
  return { action: 'allow' };
}

beforeAll(async () => {
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      verifyWebhook<BeforeSendPayload>({ secret, headers: req.headers, body: Buffer.concat(chunks) }).then(
        (call) => {
          calls.push({ verified: true, text: call.data.message.text });
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(judge(call.data.message.text)));
        },
        () => {
          calls.push({ verified: false });
          res.writeHead(401).end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/judge`;
  // The hook is on loopback, which outgoing calls may not reach unless allowed.
  server = await ParleyProcess.start({ webDir: appDist, args: ['--outbound-allow', '127.0.0.1/32'] });
  demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
  await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  pages.push(page);
  return page;
}

async function openAdmin(): Promise<Page> {
  const page = await newPage();
  await page.goto(`${server.baseUrl}/admin`);
  await page.getByLabel('API key').fill(demo.api_key);
  await page.getByLabel('API secret').fill(demo.api_secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Before-send hook' }).waitFor();
  return page;
}

describe('the before-send hook in the web app', () => {
  it('is set through /admin; the chat shows a rejection’s reason and a rewrite’s text; removed, it judges nothing', async () => {
    await withScreenshots('before-send-hook', () => pages, async () => {
      const admin = await openAdmin();
      const section = admin.getByRole('region', { name: 'Before-send hook' });
      await section.getByTestId('hook-none').waitFor();

      // The API's refusal is shown as elsewhere in /admin, and nothing is set.
      await section.getByLabel('Hook URL').fill('ftp://mod.example/check');
      await section.getByRole('button', { name: 'Set hook' }).click();
      const refused = section.getByRole('alert');
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(/^Could not set the hook: \S+ .*\(HTTP 4\d\d/);
      await expect(app.getBeforeSendHook()).rejects.toMatchObject({ status: 404 });

      await section.getByLabel('Hook URL').fill(hookUrl);
      await section.getByLabel('Timeout (ms)').fill('2000');
      await section.getByLabel(/^When the hook fails/).selectOption('allow');
      await section.getByRole('button', { name: 'Set hook' }).click();
      const secretBox = section.getByRole('textbox', { name: 'Hook signing secret' });
      await secretBox.waitFor();
      const first = await secretBox.inputValue();
      expect(first).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      expect(await section.getByTestId('hook-url').textContent()).toBe(hookUrl);
      expect(await section.getByRole('alert').count()).toBe(0);
      expect(await app.getBeforeSendHook()).toMatchObject({ url: hookUrl, timeout_ms: 2000, on_failure: 'allow' });

      // Rotated: a new secret, shown once; the hook verifies with the one shown.
      await section.getByRole('button', { name: 'Done, hide the secret' }).click();
      expect(await section.getByRole('textbox', { name: 'Hook signing secret' }).count()).toBe(0);
      await section.getByRole('button', { name: 'Rotate hook secret' }).click();
      await section.getByRole('heading', { name: 'New hook signing secret' }).waitFor();
      secret = await section.getByRole('textbox', { name: 'Hook signing secret' }).inputValue();
      expect(secret).toMatch(/^whsec_/);
      expect(secret).not.toBe(first);

      // The chat: alice's rejected send shows the reason and is not stored; a rewrite shows as rewritten.
      const chat = await newPage();
      await chat.goto(server.baseUrl);
      await chat.getByRole('button', { name: 'Sign in as alice' }).click();
      await chat.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
      await chat.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^general\b/ }).click();
      const box = chat.getByRole('textbox', { name: 'Message #general', exact: true });
      const log = chat.getByRole('log', { name: 'Messages in general' });
      // Stored messages with exactly this text (a string hasText would ignore case).
      const stored = (text: string) => log.locator('.message:not(.pending) .text', { hasText: new RegExp(`^${text}$`) });

      await box.fill('no more of this');
      await box.press('Enter');
      const failed = log.locator('.message.pending.failed', { hasText: 'no more of this' });
      await failed.getByRole('alert').filter({ hasText: `Not sent: ${REASON}` }).waitFor();
      // Sending the same text again would be rejected again: no retry, only discard.
      expect(await failed.getByRole('button', { name: 'Retry' }).count()).toBe(0);
      await failed.getByRole('article', { name: 'Alice, not sent' }).waitFor();
      expect(await stored('no more of this').count()).toBe(0);

      await box.fill('shout hello world');
      await box.press('Enter');
      await stored('SHOUT HELLO WORLD').waitFor();
      expect(await stored('shout hello world').count()).toBe(0);

      await failed.getByRole('button', { name: 'Discard' }).click();
      await failed.waitFor({ state: 'detached' });
      const client = new ParleyClient({ baseUrl: server.baseUrl, token: (await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice')).access_token });
      const general = (await client.listChannels()).items.find((c) => c.name === 'general')!;
      const texts = (await client.listMessages(general.id, { limit: 50 })).items.map((m) => m.text);
      expect(texts).toContain('SHOUT HELLO WORLD');
      expect(texts.filter((t) => t.startsWith('no more') || t === 'shout hello world')).toEqual([]);
      expect(calls).toEqual([
        { verified: true, text: 'no more of this' },
        { verified: true, text: 'shout hello world' },
      ]);

      // Removed in /admin: sends are no longer judged.
      await section.getByRole('button', { name: 'Remove hook' }).click();
      await section.getByRole('alertdialog', { name: 'Remove the before-send hook?' }).getByRole('button', { name: 'Remove', exact: true }).click();
      await section.getByTestId('hook-none').waitFor();
      await section.getByRole('status').filter({ hasText: 'Hook removed' }).waitFor();
      await expect(app.getBeforeSendHook()).rejects.toMatchObject({ status: 404, code: 'not_found' });
      await box.fill('no one judges this now');
      await box.press('Enter');
      await stored('no one judges this now').waitFor();
      await waitFor(() => log.locator('.message.pending').count().then((n) => n === 0), 5_000, 'no pending message');
      expect(calls).toHaveLength(2);
    });
  });
});
