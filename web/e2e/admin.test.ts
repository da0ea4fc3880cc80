// The app admin screen (/admin) in chromium against the real server: app credentials kept in
// sessionStorage, webhook endpoints created and managed through the UI, a test event delivered by
// the server to a real HTTP receiver on loopback, and the API's errors shown as it put them.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { ParleyServer } from '../sdk/src/server.js';
import { verifyWebhook, WebhookVerificationError } from '../sdk/src/webhooks.js';
import { ParleyProcess, waitFor, type DemoCredentials } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What the receiver answers: a status other than 200 and a body, so the log is seen to show the real answer. */
const RECEIVER_STATUS = 202;
const RECEIVER_BODY = 'accepted by the e2e receiver';

let server: ParleyProcess;
let demo: DemoCredentials;
let app: ParleyServer;
let browser: Browser;
let receiver: Server;
let receiverUrl: string;
const received: Received[] = [];
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(RECEIVER_STATUS, { 'content-type': 'text/plain' }).end(RECEIVER_BODY);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  // The receiver is on loopback, which outgoing requests may not reach unless allowed; a quick
  // job poll keeps deliveries prompt.
  server = await ParleyProcess.start({ webDir: appDist, args: ['--outbound-allow', '127.0.0.1/32', '--jobs-poll-ms', '50'] });
  demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  pages.push(page);
  return page;
}

/** From the sign-in screen's link to the admin screen's credentials form, filled and sent. */
async function signInAsAdmin(page: Page, apiKey: string, apiSecret: string): Promise<void> {
  await page.goto(server.baseUrl);
  await page.getByRole('link', { name: 'App admin (webhooks)' }).click();
  await page.waitForURL(/\/admin$/);
  await page.getByRole('note').filter({ hasText: "Never ship an app's secret in a public build" }).waitFor();
  await page.getByLabel('API key').fill(apiKey);
  await page.getByLabel('API secret').fill(apiSecret);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const storage = (page: Page) =>
  page.evaluate(() => ({ session: sessionStorage.getItem('parley.admin'), local: Object.keys(localStorage) }));

/** The delivery log's row of one delivery (by its webhook-id). */
const row = (page: Page, messageId: string): Locator => page.locator(`.delivery-table tbody[data-message-id="${messageId}"]`);

async function cells(r: Locator): Promise<Record<string, string>> {
  const names = ['event', 'state', 'attempts', 'status', 'latency', 'times', 'outcome'];
  const texts = await r.locator('td').allTextContents();
  return Object.fromEntries(names.map((n, i) => [n, texts[i]?.trim() ?? '']));
}

/** Sends a test event from the UI; answers its webhook-id as the UI reported it. */
async function sendTest(page: Page): Promise<string> {
  await page.getByRole('button', { name: 'Send test event' }).click();
  const status = page.getByRole('status').filter({ hasText: 'Test event queued as' });
  await status.waitFor();
  const m = /msg_[A-Za-z0-9_-]+/.exec((await status.textContent()) ?? '');
  expect(m, 'the queued delivery’s id').not.toBeNull();
  return m![0];
}

describe('the app admin screen in chromium', () => {
  it('refuses wrong app credentials with the API’s error and keeps nothing', async () => {
    await withScreenshots('admin-wrong-credentials', () => pages, async () => {
      const page = await newPage();
      await signInAsAdmin(page, demo.api_key, `${demo.api_secret}-wrong`);
      const alert = page.getByRole('alert');
      await alert.waitFor();
      const text = (await alert.textContent()) ?? '';
      expect(text).toContain('Could not sign in');
      expect(text).toContain('unauthorized');
      expect(text).toContain('HTTP 401');
      expect(await storage(page)).toEqual({ session: null, local: [] });
      // Still the form: nothing of the app was shown.
      await page.getByLabel('API secret').waitFor();
      expect(await page.getByRole('heading', { name: 'Webhook endpoints' }).count()).toBe(0);
    });
  });

  it('creates an endpoint, delivers a test event to a real receiver, rotates, disables, deletes', async () => {
    await withScreenshots('admin-webhooks', () => pages, async () => {
      const page = await newPage();
      await signInAsAdmin(page, demo.api_key, demo.api_secret);
      await page.getByRole('heading', { name: 'Webhook endpoints' }).waitFor();
      await page.getByText('No endpoints yet.').waitFor();
      // The credentials live in this tab's sessionStorage only.
      expect(await storage(page)).toEqual({ session: JSON.stringify({ apiKey: demo.api_key, apiSecret: demo.api_secret }), local: [] });

      // A URL that is not http(s): the server refuses it, and the UI shows its error as given.
      await page.getByRole('button', { name: 'New endpoint' }).click();
      const form = page.getByRole('region', { name: 'New endpoint' });
      await form.getByLabel('URL').fill('ftp://example.com/hook');
      await form.getByRole('button', { name: 'Create endpoint' }).click();
      const refused = form.getByRole('alert');
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(/Could not create the endpoint: invalid_request field 'url': .*\(HTTP 400/);
      expect(await app.listWebhooks()).toEqual([]);

      // The real one: picked event types from GET /v1/webhooks/event-types.
      await form.getByLabel('URL').fill(`${receiverUrl}/hook`);
      await form.getByLabel('Description (optional)').fill('e2e receiver');
      const types = form.getByRole('group', { name: 'Event types' });
      expect(await types.getByRole('checkbox').count()).toBe((await app.listWebhookEventTypes()).length + 1);
      await types.getByRole('checkbox', { name: 'All events (*)' }).uncheck();
      await types.getByRole('checkbox', { name: 'message.new', exact: true }).check();
      await types.getByRole('checkbox', { name: 'reaction.added', exact: true }).check();
      await form.getByRole('button', { name: 'Create endpoint' }).click();

      const secretBox = page.getByRole('textbox', { name: 'Signing secret' });
      await secretBox.waitFor();
      const secret = await secretBox.inputValue();
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]+$/);
      const [endpoint] = await app.listWebhooks();
      expect(endpoint).toMatchObject({ url: `${receiverUrl}/hook`, description: 'e2e receiver', event_types: ['message.new', 'reaction.added'], enabled: true });
      const detail = page.getByRole('region', { name: `${receiverUrl}/hook` });
      await detail.getByText('reaction.added').waitFor();
      await page.getByRole('list', { name: 'Endpoints' }).getByRole('button', { name: /e2e receiver/ }).waitFor();

      // A test event: the receiver gets it signed with the secret the UI showed, and the log
      // shows the delivery succeeded with the receiver's status and answer.
      const testId = await sendTest(page);
      const got = await waitFor(() => received.find((r) => r.headers['webhook-id'] === testId), 10_000, 'the test delivery at the receiver');
      expect(got.path).toBe('/hook');
      const payload = await verifyWebhook({ secret, headers: got.headers, body: got.body });
      expect(payload).toMatchObject({ type: 'webhook.test', app_id: demo.app_id });
      await row(page, testId).and(page.locator('[data-state="succeeded"]')).waitFor({ timeout: 10_000 });
      const c = await cells(row(page, testId));
      expect(c).toMatchObject({ state: 'succeeded', attempts: '1', status: String(RECEIVER_STATUS), outcome: `Response${RECEIVER_BODY}` });
      expect(c.times).toMatch(/^created .+last change .+$/);
      expect(c.event).toContain('webhook.test');
      expect(c.latency).toMatch(/^\d+ ms$/);

      // A real event the endpoint subscribes to shows up in the log after a refresh.
      const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
      const alice = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
      const general = (await alice.listChannels()).items.find((ch) => ch.name === 'general')!;
      await alice.sendMessage(general.id, { text: 'a message for the webhook' });
      const event = await waitFor(
        () => received.find((r) => (JSON.parse(r.body) as { type: string }).type === 'message.new'),
        10_000,
        'the message.new delivery',
      );
      const eventId = String(event.headers['webhook-id']);
      await waitFor(
        async () => {
          await page.getByRole('button', { name: 'Refresh' }).click();
          return (await row(page, eventId).getAttribute('data-state', { timeout: 500 }).catch(() => null)) === 'succeeded';
        },
        10_000,
        'the message.new delivery in the log',
      );
      // Newest first.
      expect(await page.locator('.delivery-table tbody').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-id')))).toEqual([eventId, testId]);

      // Rotation with no overlap: a new secret, shown once; the old one no longer verifies.
      await page.getByRole('button', { name: 'Done, hide the secret' }).click();
      expect(await page.getByRole('textbox', { name: 'Signing secret' }).count()).toBe(0);
      await detail.getByLabel('Old secret keeps signing for').selectOption({ label: 'no overlap' });
      await detail.getByRole('button', { name: 'Rotate secret' }).click();
      await page.getByRole('heading', { name: 'New signing secret' }).waitFor();
      const rotated = await page.getByRole('textbox', { name: 'Signing secret' }).inputValue();
      expect(rotated).toMatch(/^whsec_/);
      expect(rotated).not.toBe(secret);
      const afterRotation = await sendTest(page);
      const signedNew = await waitFor(() => received.find((r) => r.headers['webhook-id'] === afterRotation), 10_000, 'the delivery after rotation');
      await verifyWebhook({ secret: rotated, headers: signedNew.headers, body: signedNew.body });
      await expect(verifyWebhook({ secret, headers: signedNew.headers, body: signedNew.body })).rejects.toBeInstanceOf(WebhookVerificationError);

      // Disable: the API agrees, and a test cannot be sent; enable again.
      await detail.getByRole('button', { name: 'Disable' }).click();
      await detail.getByRole('status').filter({ hasText: 'Endpoint disabled' }).waitFor();
      expect((await app.getWebhook(endpoint.id)).enabled).toBe(false);
      expect(await detail.getByRole('button', { name: 'Send test event' }).isDisabled()).toBe(true);
      await page.getByRole('list', { name: 'Endpoints' }).getByText('Disabled').waitFor();
      await detail.getByRole('button', { name: 'Enable' }).click();
      await detail.getByRole('status').filter({ hasText: 'Endpoint enabled.' }).waitFor();
      expect((await app.getWebhook(endpoint.id)).enabled).toBe(true);

      // A reload keeps the credentials (same tab) but not the secret: it was shown once.
      await page.reload();
      await detail.getByRole('heading', { name: `${receiverUrl}/hook` }).waitFor();
      expect(await page.getByRole('textbox', { name: 'Signing secret' }).count()).toBe(0);
      await row(page, testId).waitFor();

      // Delete, after a confirmation.
      await detail.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('alertdialog', { name: 'Delete this endpoint?' });
      await confirm.getByRole('button', { name: 'Delete endpoint' }).click();
      await page.getByRole('status').filter({ hasText: `Deleted the endpoint ${receiverUrl}/hook.` }).waitFor();
      await page.getByText('No endpoints yet.').waitFor();
      expect(await app.listWebhooks()).toEqual([]);

      // Forgetting the credentials clears them from the tab.
      await page.getByRole('button', { name: 'Forget credentials' }).click();
      await page.getByLabel('API secret').waitFor();
      expect(await storage(page)).toEqual({ session: null, local: [] });
    });
  });

  it('pages the delivery log back, newest first, each delivery once', async () => {
    await withScreenshots('admin-delivery-pages', () => pages, async () => {
      const endpoint = await app.createWebhook({ url: `${receiverUrl}/paged`, event_types: ['*'], description: 'paged log' });
      const sent: string[] = [];
      for (let i = 0; i < 23; i++) sent.push((await app.testWebhook(endpoint.id)).message_id);
      const page = await newPage();
      await signInAsAdmin(page, demo.api_key, demo.api_secret);
      await page.getByRole('list', { name: 'Endpoints' }).getByRole('button', { name: /paged log/ }).click();
      const shown = () => page.locator('.delivery-table tbody').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-message-id')));
      await waitFor(async () => (await shown()).length === 20, 10_000, 'the first page of 20');
      expect(await shown()).toEqual(sent.slice(-20).reverse());
      await page.getByRole('button', { name: 'Load older deliveries' }).click();
      await waitFor(async () => (await shown()).length === 23, 10_000, 'the older page');
      expect(await shown()).toEqual([...sent].reverse());
      expect(await page.getByRole('button', { name: 'Load older deliveries' }).count()).toBe(0);
      await app.deleteWebhook(endpoint.id);
    });
  });

  it('is linked from the chat’s sidebar, and back', async () => {
    await withScreenshots('admin-links', () => pages, async () => {
      const page = await newPage();
      await page.goto(server.baseUrl);
      await page.getByRole('button', { name: 'Sign in as carol' }).click();
      const nav = page.getByRole('navigation', { name: 'Channels' });
      await nav.getByRole('link', { name: 'App admin' }).click();
      await page.waitForURL(/\/admin$/);
      await page.getByRole('heading', { name: 'Sign in with app credentials' }).waitFor();
      await page.getByRole('link', { name: 'Back to chat' }).click();
      // Still signed in as carol (her name shows once the user list is loaded again).
      await nav.getByTestId('me').filter({ hasText: /^Carol$/ }).waitFor();
    });
  });
});
