import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { ParleyError } from '../sdk/src/errors.js';
import type { Channel } from '../sdk/src/types.js';
import { ParleyProcess, waitFor } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

let server: ParleyProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let api: ParleyClient; // alice, over REST
let lab: Channel; // 100 messages; "aardvark" only in the 2nd
let generalId: string;
const pages = () => (page ? [page] : []);

const channelLink = (name: string) => page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: new RegExp(`^${name}\\b`) });
const searchBox = () => page.getByRole('combobox', { name: 'Search messages' });
const suggestions = () => page.getByRole('listbox', { name: 'Suggestions' });
const panel = () => page.getByRole('complementary', { name: 'Search results' });
const results = () => panel().getByRole('list', { name: 'Results' }).locator('> li');

async function searchFor(q: string): Promise<void> {
  await searchBox().click();
  await searchBox().fill(q);
  await searchBox().press('Enter');
}

// The setup sends a long history as one user: more than the per-user rate limit allows a client.
const FAST = ['--rate-limit-user-per-sec', '10000', '--rate-limit-user-burst', '10000'];

beforeAll(async () => {
  server = await ParleyProcess.start({ webDir: appDist, args: FAST });
  browser = await launchChromium();
  const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
  api = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
  generalId = (await api.listChannels()).items.find((c) => c.name === 'general')!.id;
  lab = await api.createChannel({ type: 'group', name: 'Research lab', members: ['bob'] });
  for (let i = 1; i <= 100; i++) {
    await api.sendMessage(lab.id, { text: i === 2 ? 'the aardvark migration plan, draft 2' : `lab note ${i}` });
  }
  await api.sendMessage(generalId, { text: 'an aardvark sighting: https://example.org/aardvark' });
  await waitFor(async () => (await api.searchMessages({ q: 'aardvark' })).items.length === 2, 10_000, 'the index to catch up');

  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  await page.goto(server.baseUrl);
  await page.getByRole('button', { name: 'Sign in as alice' }).click();
  await page.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
});

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
});

describe('search in the web app', () => {
  it('suggests people and channels while typing; / focuses the box', async () => {
    await withScreenshots('search-suggest', pages, async () => {
      await channelLink('general').click();
      await page.locator('.messages').click();
      await page.keyboard.press('/');
      await waitFor(async () => (await searchBox().evaluate((el) => el === document.activeElement)) === true, 5_000, 'the box to have focus');
      await searchBox().pressSequentially('res');
      await suggestions().getByRole('option', { name: /Research lab/ }).waitFor();
      await searchBox().fill('bo');
      await suggestions().getByRole('option', { name: /Bob/ }).waitFor();
      expect(await searchBox().getAttribute('aria-expanded')).toBe('true');
      await searchBox().press('Escape');
      expect(await searchBox().getAttribute('aria-expanded')).toBe('false');

      // Keyboard only: the arrow picks a channel, Enter opens it.
      await searchBox().fill('resea');
      await suggestions().getByRole('option', { name: /Research lab/ }).waitFor();
      await searchBox().press('ArrowDown');
      expect(await suggestions().getByRole('option', { name: /Research lab/ }).getAttribute('aria-selected')).toBe('true');
      await searchBox().press('Enter');
      await page.getByRole('log', { name: 'Messages in Research lab' }).waitFor();
      await channelLink('general').click();
    });
  });

  it('shows results with the matches marked and a total; a filter chip searches again', async () => {
    await withScreenshots('search-results', pages, async () => {
      await searchFor('aardvark');
      await panel().getByRole('status').filter({ hasText: '2 results' }).waitFor();
      expect(await results().count()).toBe(2);
      const marks = await panel().locator('.snippet mark').allTextContents();
      expect(marks.length).toBeGreaterThanOrEqual(2);
      for (const m of marks) expect(m.toLowerCase()).toBe('aardvark');
      // The snippet's text is text: no HTML came through.
      expect(await panel().locator('.snippet').first().innerHTML()).not.toContain('<script');

      await panel().getByRole('button', { name: 'Has link' }).click();
      await panel().getByRole('status').filter({ hasText: '1 result' }).waitFor();
      expect(await panel().getByRole('button', { name: 'Has link' }).getAttribute('aria-pressed')).toBe('true');
      expect(await results().first().textContent()).toContain('sighting');
      await panel().getByRole('button', { name: 'In this channel' }).click(); // general is open
      await panel().getByRole('status').filter({ hasText: '1 result' }).waitFor();
      await panel().getByRole('button', { name: 'Has link' }).click();
      await panel().getByRole('button', { name: 'In this channel' }).click();
      await panel().getByRole('status').filter({ hasText: '2 results' }).waitFor();
      await panel().getByRole('combobox', { name: 'From' }).selectOption('bob');
      await panel().getByText('No messages match').waitFor();
      await panel().getByRole('combobox', { name: 'From' }).selectOption('');
      await panel().getByRole('status').filter({ hasText: '2 results' }).waitFor();

      // More than a page: 20 shown, the next 20 on demand.
      await searchFor('lab note');
      await panel().getByRole('status').filter({ hasText: '99 results' }).waitFor();
      expect(await results().count()).toBe(20);
      await panel().getByRole('button', { name: 'Load more results' }).click();
      await waitFor(async () => (await results().count()) === 40, 10_000, 'the second page');
      const texts = await panel().locator('.snippet').allTextContents();
      expect(new Set(texts).size).toBe(40);
      await searchFor('aardvark');
      await panel().getByRole('status').filter({ hasText: '2 results' }).waitFor();
    });
  });

  it('a result opens its channel at the message, far back in its history, highlighted; then back to the newest', async () => {
    await withScreenshots('search-jump', pages, async () => {
      await results().filter({ hasText: 'migration plan' }).getByRole('link').click();
      const log = page.getByRole('log', { name: 'Messages in Research lab' });
      const target = log.locator('.message.highlighted', { hasText: 'the aardvark migration plan' });
      await target.waitFor({ timeout: 10_000 });
      expect(await target.getAttribute('aria-current')).toBe('true');
      // In view, and the newest messages are not what is shown.
      const box = (await target.boundingBox())!;
      const view = (await log.boundingBox())!;
      expect(box.y).toBeGreaterThanOrEqual(view.y - 1);
      expect(box.y + box.height).toBeLessThanOrEqual(view.y + view.height + 1);
      expect(await log.getByText('lab note 100', { exact: true }).count()).toBe(0);

      await log.getByRole('button', { name: /Jump to the newest messages/ }).click();
      await log.getByText('lab note 100', { exact: true }).waitFor();
      expect(await log.getByRole('button', { name: /Jump to the newest messages/ }).count()).toBe(0);
    });
  });

  it('offers the recent searches, and forgets them on request', async () => {
    await withScreenshots('search-recent', pages, async () => {
      await searchBox().click();
      await searchBox().fill('');
      await suggestions().getByRole('option', { name: 'aardvark', exact: true }).first().waitFor();
      await page.getByRole('button', { name: 'Clear recent searches' }).click();
      await waitFor(async () => (await suggestions().getByRole('option', { name: 'aardvark', exact: true }).count()) === 0, 5_000, 'the recent searches to go');
      expect((await api.searchSuggest('')).recent).toEqual([]);
      await searchBox().press('Escape');
    });
  });

  it('shows the server’s error for a query of exclusions only', async () => {
    await withScreenshots('search-error', pages, async () => {
      const expected = await api.searchMessages({ q: '-aardvark' }).then(
        () => undefined,
        (e: unknown) => (e as ParleyError).message,
      );
      expect(expected).toBeTruthy();
      await searchFor('-aardvark');
      const alert = panel().getByRole('alert');
      await alert.waitFor();
      expect((await alert.textContent())?.trim()).toBe(expected);
      expect(await results().count()).toBe(0);
    });
  });

  it('on a phone-sized screen, the results cover the channel and a hit opens it', async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 780 } });
    const bob = await phone.newPage();
    await withScreenshots('search-phone', () => [bob], async () => {
      await bob.goto(server.baseUrl);
      await bob.getByRole('button', { name: 'Sign in as bob' }).click();
      await bob.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
      const box = bob.getByRole('combobox', { name: 'Search messages' });
      await box.fill('aardvark');
      await box.press('Enter');
      const results = bob.getByRole('complementary', { name: 'Search results' });
      await results.getByRole('status').filter({ hasText: '2 results' }).waitFor();
      await results.getByRole('link', { name: /migration plan/ }).click();
      await bob.locator('.message.highlighted', { hasText: 'the aardvark migration plan' }).waitFor();
      expect(await results.count()).toBe(0);
      expect(await bob.getByRole('navigation', { name: 'Channels' }).isVisible()).toBe(false);
    }).finally(() => phone.close());
  });

  it('finds a public channel to view and join', async () => {
    await withScreenshots('search-join', pages, async () => {
      const bobPair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('bob');
      const bob = new ParleyClient({ baseUrl: server.baseUrl, token: bobPair.access_token });
      const open = await bob.createChannel({ type: 'public', name: 'Birdwatching', topic: 'herons and egrets' });
      await bob.sendMessage(open.id, { text: 'a heron today' });

      await page.getByRole('navigation', { name: 'Channels' }).getByRole('button', { name: 'Find channels' }).click();
      const dialog = page.getByRole('dialog', { name: 'Find channels' });
      await dialog.getByLabel('Channel name or topic').fill('heron');
      const publicOnes = dialog.getByRole('region', { name: 'Public channels' });
      await publicOnes.getByText('Birdwatching').waitFor();
      await publicOnes.getByRole('button', { name: 'View' }).click();
      await page.getByText('a heron today').waitFor();
      await page.getByRole('button', { name: 'Join channel' }).click();
      await page.getByRole('textbox', { name: 'Message #Birdwatching', exact: true }).waitFor();
      await channelLink('Birdwatching').waitFor();
    });
  });
});
