import type { Browser, BrowserContext, Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { ParleyProcess, waitFor } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

let server: ParleyProcess;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pages: Page[] = [];
/** The signed-in pages by user, across tests. */
const byUser = new Map<string, Page>();

async function open(user: string, viewport = { width: 1200, height: 800 }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  contexts.push(context);
  const page = await context.newPage();
  pages.push(page);
  await page.goto(server.baseUrl);
  byUser.set(user, page);
  await page.getByRole('button', { name: `Sign in as ${user}` }).click();
  await page.getByRole('navigation', { name: 'Channels' }).waitFor();
  await connected(page);
  return page;
}

const connected = (page: Page) => page.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
const channelLink = (page: Page, name: string) => page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: new RegExp(`^${name}\\b`) });
const badge = (page: Page, name: string) => channelLink(page, name).getByTestId('unread-badge');
const composer = (page: Page, label: string) => page.getByRole('textbox', { name: label, exact: true });
const messageTexts = (page: Page) => page.locator('.messages .message-list > li .text').allTextContents();

async function send(page: Page, label: string, text: string): Promise<void> {
  const box = composer(page, label);
  await box.fill(text);
  await box.press('Enter');
  await page.locator('.messages .message:not(.pending) .text', { hasText: text }).first().waitFor();
}

async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}

beforeAll(async () => {
  server = await ParleyProcess.start({ webDir: appDist });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
});

describe('the web app in chromium', () => {
  it('two users chat in real time: unread badge, typing, seen-by, reactions, threads, edit and delete', async () => {
    let alice!: Page;
    let bob!: Page;
    await withScreenshots('realtime-chat', () => pages, async () => {
      [alice, bob] = await Promise.all([open('alice'), open('bob')]);
      await channelLink(alice, 'general').click();
      await composer(alice, 'Message #general').waitFor();
      expect(await badge(bob, 'general').count()).toBe(0);

      await send(alice, 'Message #general', 'Hello Bob, this is Alice');
      await waitFor(async () => (await badge(bob, 'general').textContent())?.startsWith('1'), 10_000, 'bob’s badge to show 1');
      await send(alice, 'Message #general', 'Are you there @bob?');
      await waitFor(async () => (await badge(bob, 'general').textContent())?.startsWith('2'), 10_000, 'bob’s badge to show 2');
      expect(await alice.title()).toBe('Parley');
      await waitFor(async () => (await bob.title()) === '(2) Parley', 5_000, 'the unread count in bob’s title');

      // Bob opens the channel: both messages, the badge goes, Alice sees "Seen by Bob".
      await channelLink(bob, 'general').click();
      await bob.getByText('Are you there @bob?').waitFor();
      await waitFor(async () => (await badge(bob, 'general').count()) === 0, 10_000, 'the badge to go');
      await alice.getByText('Seen by Bob').waitFor({ timeout: 10_000 });
      await alice.getByRole('list', { name: '2 of 3 members online' }).waitFor({ timeout: 10_000 });

      // Typing shows on the other side; the reply arrives live.
      await composer(bob, 'Message #general').pressSequentially('Hi Ali');
      await alice.getByText('Bob is typing…').waitFor({ timeout: 10_000 });
      await composer(bob, 'Message #general').pressSequentially('ce!');
      await composer(bob, 'Message #general').press('Enter');
      await alice.locator('.message .text', { hasText: 'Hi Alice!' }).waitFor();
      await waitFor(async () => (await alice.getByTestId('typing').textContent()) === '', 10_000, 'typing to stop');

      // Mention autocomplete: "@ca" offers Carol; Enter picks her.
      const box = composer(alice, 'Message #general');
      await box.fill('ping @ca');
      await alice.getByRole('option', { name: /Carol/ }).waitFor();
      await box.press('Enter');
      await waitFor(async () => (await box.inputValue()) === 'ping @carol ', 5_000, 'the picked mention');
      await box.press('Enter');
      await bob.locator('.message .mention', { hasText: '@carol' }).waitFor();

      // Reactions, keyboard only: Tab into the message's toolbar.
      const bobsMessage = alice.locator('.message', { hasText: 'Hi Alice!' });
      await bobsMessage.getByRole('button', { name: 'Add reaction' }).focus();
      await alice.keyboard.press('Enter');
      await alice.getByRole('button', { name: 'React with 🎉' }).click();
      await bob.locator('.message', { hasText: 'Hi Alice!' }).getByRole('button', { name: '🎉 1' }).waitFor();

      // A thread: Bob replies to Alice's first message; Alice sees the reply count and the reply.
      await bob.locator('.message', { hasText: 'Hello Bob, this is Alice' }).getByRole('button', { name: 'Reply in thread' }).click();
      const thread = bob.getByRole('complementary', { name: 'Thread' });
      await thread.getByRole('textbox', { name: 'Reply in thread' }).fill('Replying in a thread');
      await thread.getByRole('textbox', { name: 'Reply in thread' }).press('Enter');
      await thread.getByText('Replying in a thread').waitFor();
      await alice.getByRole('button', { name: '1 reply' }).click();
      await alice.getByRole('complementary', { name: 'Thread' }).getByText('Replying in a thread').waitFor();
      expect(await messageTexts(alice)).not.toContain('Replying in a thread');
      await alice.getByRole('button', { name: 'Close thread' }).click();

      // Edit and delete show on the other side.
      const mine = alice.locator('.message', { hasText: 'Are you there @bob?' });
      await mine.getByRole('button', { name: 'Edit message' }).click();
      await alice.getByRole('textbox', { name: 'Edit message' }).fill('Are you still there @bob?');
      await alice.getByRole('textbox', { name: 'Edit message' }).press('Enter');
      await bob.locator('.message', { hasText: 'Are you still there @bob?' }).getByText('(edited)').waitFor();
      await alice.locator('.message', { hasText: 'Are you still there @bob?' }).getByRole('button', { name: 'Delete message' }).click();
      await alice.getByRole('alertdialog', { name: 'Delete this message?' }).getByRole('button', { name: 'Delete' }).click();
      await bob.getByText('This message was deleted.').waitFor();
    });
  });

  it('starts DMs and groups, and works on a phone-sized screen', async () => {
    await withScreenshots('dm-and-phone', () => pages, async () => {
      const carol = await open('carol', { width: 390, height: 780 });
      const nav = carol.getByRole('navigation', { name: 'Channels' });
      await nav.getByRole('button', { name: 'New message' }).click();
      await carol.getByRole('dialog', { name: 'New message' }).getByRole('button', { name: /Message Alice/ }).click();
      // One pane at a time: the channel replaces the list, with a way back.
      await composer(carol, 'Message Alice').waitFor();
      expect(await nav.isVisible()).toBe(false);
      await send(carol, 'Message Alice', 'A direct hello from Carol');
      const alice = byUser.get('alice')!;
      await channelLink(alice, 'Carol').waitFor({ timeout: 10_000 });
      await waitFor(async () => (await badge(alice, 'Carol').textContent())?.startsWith('1'), 10_000, 'alice’s DM badge');

      await carol.getByRole('button', { name: 'Back to channels' }).click();
      await nav.getByRole('button', { name: 'New group' }).click();
      const dialog = carol.getByRole('dialog', { name: 'New group' });
      await dialog.getByLabel('Group name').fill('Weekend plans');
      await dialog.getByRole('checkbox', { name: /Bob/ }).check();
      await dialog.getByRole('button', { name: 'Create group' }).click();
      await composer(carol, 'Message #Weekend plans').waitFor();
      await channelLink(byUser.get('bob')!, 'Weekend plans').waitFor({ timeout: 10_000 });
    });
  });

  it('loads older history when scrolled up, keeping every message once and in order', async () => {
    await withScreenshots('history', () => pages, async () => {
      const alice = byUser.get('alice')!;
      const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
      const api = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
      const ch = await api.createChannel({ type: 'group', name: 'Long history', members: ['bob'] });
      const sent = Array.from({ length: 45 }, (_, i) => `history ${i + 1}`);
      for (const text of sent) await api.sendMessage(ch.id, { text });

      await channelLink(alice, 'Long history').click();
      await alice.locator('.message .text', { hasText: 'history 45' }).waitFor();
      expect(await alice.getByText('history 1', { exact: true }).count()).toBe(0); // not in the newest page
      const log = alice.getByRole('log', { name: 'Messages in Long history' });
      await waitFor(
        async () => {
          await log.evaluate((el) => el.scrollTo(0, 0));
          return (await alice.getByText('history 1', { exact: true }).count()) === 1;
        },
        10_000,
        'the first message after scrolling up',
      );
      await alice.getByText('This is the beginning of Long history.').waitFor();
      expect(await messageTexts(alice)).toEqual(sent);
    });
  });

  it('after the server restarts, the app reconnects and shows every message sent meanwhile exactly once', async () => {
    await withScreenshots('restart', () => pages, async () => {
      const alice = byUser.get('alice')!;
      const bob = byUser.get('bob')!;
      await channelLink(alice, 'general').click();
      await channelLink(bob, 'general').click();
      await composer(alice, 'Message #general').waitFor();

      await server.stop();
      await alice.locator('.app[data-connection="reconnecting"]').waitFor({ timeout: 15_000 });
      await alice.getByRole('status').filter({ hasText: 'Reconnecting' }).waitFor();
      // Keep the browsers away until the messages below are stored: they are surely missed.
      await Promise.all([alice, bob].map((p) => p.context().setOffline(true)));
      await server.restart();

      const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('carol');
      const carol = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token, WebSocket });
      const channelId = (await carol.listChannels()).items.find((c) => c.name === 'general')!.id;
      const missed = Array.from({ length: 5 }, (_, i) => `sent during the outage ${i + 1}`);
      for (const text of missed) await carol.sendMessage(channelId, { text });
      expect(await alice.locator('.app').getAttribute('data-connection')).toBe('reconnecting');

      // Back online: the app retries at once (the browser's "online" event) and resumes.
      await Promise.all([alice, bob].map((p) => p.context().setOffline(false)));
      await connected(alice);
      await connected(bob);
      await send(bob, 'Message #general', 'back online');
      await alice.locator('.message .text', { hasText: 'back online' }).waitFor({ timeout: 15_000 });

      for (const page of [alice, bob]) {
        const texts = await messageTexts(page);
        for (const t of [...missed, 'back online']) expect(texts.filter((x) => x === t), t).toHaveLength(1);
        expect(texts.filter((t) => missed.includes(t) || t === 'back online')).toEqual([...missed, 'back online']);
      }
      expect(await textOf(bob, '.app')).not.toContain('Reconnecting');
    });
  });

  it('serves the API docs (Swagger UI over docs/openapi.yaml) at /docs', async () => {
    await withScreenshots('docs', () => pages, async () => {
      const page = await contexts[0].newPage();
      pages.push(page);
      await page.goto(`${server.baseUrl}/docs`);
      await page.waitForURL(/\/docs\/$/);
      await page.getByText('Parley API').first().waitFor({ timeout: 20_000 });
      // Swagger UI renders only the operations near the viewport once a spec has 150 tags and
      // operations or more (Parley's has): scroll to the ones to look for.
      for (const path of ['/v1/channels', '/v1/files']) {
        await waitFor(
          async () => {
            const found = page.locator('.opblock-summary-path', { hasText: path }).first();
            if (await found.isVisible()) return true;
            await page.mouse.wheel(0, 600);
            return false;
          },
          20_000,
          `the operation ${path} in the API docs`,
        );
      }
    });
  });
});
