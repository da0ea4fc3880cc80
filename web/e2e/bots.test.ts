// Bots in chromium against the real server (docs/bots.md): a bot user minted with the demo app's
// credentials posts in a channel, and the app marks its name with a BOT badge — on its messages
// (live and in a thread), in the member list — and not a human's; in /admin an endpoint acting
// for a non-bot user is refused with the API's 422, and one acting for the bot shows it.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { ParleyServer } from '../sdk/src/server.js';
import { ParleyProcess, type DemoCredentials } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

const BOT_ID = 'helper';
const BOT_NAME = 'Helper';

let server: ParleyProcess;
let demo: DemoCredentials;
let app: ParleyServer;
let bot: ParleyClient;
let alice: ParleyClient;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  // Endpoints on loopback are accepted only when allowed (the admin test creates one).
  server = await ParleyProcess.start({ webDir: appDist, args: ['--outbound-allow', '127.0.0.1/32'] });
  demo = server.demo();
  app = new ParleyServer({ baseUrl: server.baseUrl, apiKey: demo.api_key, apiSecret: demo.api_secret });
  const botPair = await app.mintToken({ user_id: BOT_ID, name: BOT_NAME, bot: true });
  expect(botPair.user.bot).toBe(true);
  bot = new ParleyClient({ baseUrl: server.baseUrl, token: botPair.access_token });
  const alicePair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
  alice = new ParleyClient({ baseUrl: server.baseUrl, token: alicePair.access_token });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
});

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  pages.push(page);
  return page;
}

describe('bots in the web app', () => {
  it('marks a bot’s name with a BOT badge on its messages and in the member list, and no human’s', async () => {
    await withScreenshots('bot-badge', () => pages, async () => {
      const channel = await alice.createChannel({ type: 'group', name: 'with a bot', members: ['bob', BOT_ID] });
      const asked = await alice.sendMessage(channel.id, { text: 'Hello from Alice' });
      await bot.sendMessage(channel.id, { text: 'Hello from the bot' });

      const page = await newPage();
      await page.goto(server.baseUrl);
      await page.getByRole('button', { name: 'Sign in as bob' }).click();
      await page.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
      await page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^with a bot\b/ }).click();

      const log = page.getByRole('log', { name: 'Messages in with a bot' });
      const fromBot = log.locator('.message', { hasText: 'Hello from the bot' });
      const fromAlice = log.locator('.message', { hasText: 'Hello from Alice' });
      await fromBot.getByTestId('bot-badge').waitFor();
      expect(await fromBot.locator('.message-head').innerText()).toMatch(new RegExp(`^${BOT_NAME}\\s+BOT\\s`));
      expect(await fromBot.getByTestId('bot-badge').textContent()).toBe('bot');
      await fromBot.getByRole('article', { name: new RegExp(`^${BOT_NAME} \\(bot\\), `) }).waitFor();
      expect(await fromAlice.locator('.author').textContent()).toBe('Alice');
      expect(await fromAlice.getByTestId('bot-badge').count()).toBe(0);
      await fromAlice.getByRole('article', { name: /^Alice, / }).waitFor();

      // The member list: the bot marked, the humans not.
      const members = page.getByRole('list', { name: /members online$/ });
      await members.getByRole('listitem').filter({ hasText: BOT_NAME }).getByTestId('bot-badge').waitFor();
      for (const human of ['Alice', 'Bob']) {
        const item = members.getByRole('listitem').filter({ hasText: human });
        await item.waitFor();
        expect(await item.getByTestId('bot-badge').count(), human).toBe(0);
      }
      expect(await members.getByTestId('bot-badge').count()).toBe(1);

      // A message arriving live, and a reply in a thread, are marked too.
      await bot.sendMessage(channel.id, { text: 'Another one, live' });
      await log.locator('.message', { hasText: 'Another one, live' }).getByTestId('bot-badge').waitFor();
      await bot.sendMessage(channel.id, { text: 'A reply from the bot', parent_seq: asked.message.seq });
      await fromAlice.getByRole('button', { name: '1 reply' }).click();
      const thread = page.getByRole('complementary', { name: 'Thread' });
      const reply = thread.locator('.message', { hasText: 'A reply from the bot' });
      await reply.getByTestId('bot-badge').waitFor();
      expect(await thread.locator('.message', { hasText: 'Hello from Alice' }).getByTestId('bot-badge').count()).toBe(0);
      expect(await log.getByTestId('bot-badge').count()).toBe(2);
    });
  });

  it('in /admin, refuses an endpoint for a non-bot user with the API’s 422 and shows the bot an endpoint acts for', async () => {
    await withScreenshots('admin-bot-endpoint', () => pages, async () => {
      const page = await newPage();
      await page.goto(`${server.baseUrl}/admin`);
      await page.getByLabel('API key').fill(demo.api_key);
      await page.getByLabel('API secret').fill(demo.api_secret);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Webhook endpoints' }).waitFor();

      const url = 'http://127.0.0.1:9/helper-bot';
      await page.getByRole('button', { name: 'New endpoint' }).click();
      const form = page.getByRole('region', { name: 'New endpoint' });
      await form.getByLabel('URL').fill(url);
      const botField = form.getByRole('textbox', { name: 'Acts for bot (user id, optional)' });
      await botField.fill('alice');
      await form.getByRole('button', { name: 'Create endpoint' }).click();
      const refused = form.getByRole('alert');
      await refused.waitFor();
      expect(await refused.textContent()).toMatch(/^Could not create the endpoint: validation_failed .*bot_user_id.*\(HTTP 422/);
      expect(await app.listWebhooks()).toEqual([]);

      await botField.fill(BOT_ID);
      await form.getByRole('button', { name: 'Create endpoint' }).click();
      await page.getByRole('textbox', { name: 'Signing secret' }).waitFor();
      const detail = page.getByRole('region', { name: url });
      expect(await detail.getByTestId('endpoint-bot').textContent()).toBe(BOT_ID);
      await detail.getByText('gets only the events of this bot’s channels').waitFor();
      const [endpoint] = await app.listWebhooks();
      expect(endpoint).toMatchObject({ url, bot_user_id: BOT_ID });
      await page.getByRole('list', { name: 'Endpoints' }).getByRole('button', { name: new RegExp(`for bot ${BOT_ID}`) }).waitFor();

      // An ordinary endpoint says it has no bot.
      await app.createWebhook({ url: 'http://127.0.0.1:9/everything', event_types: ['*'] });
      await page.reload();
      await page.getByRole('list', { name: 'Endpoints' }).getByRole('button', { name: /everything/ }).click();
      await page.getByRole('region', { name: 'http://127.0.0.1:9/everything' }).getByText('no bot: gets the events of every channel').waitFor();
      expect(await page.getByTestId('endpoint-bot').count()).toBe(0);
    });
  });
});
