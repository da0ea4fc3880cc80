// Link previews in chromium against the real server: real pages served on loopback (the server
// runs with --outbound-allow 127.0.0.1/32 so it may fetch them), a message sent through the UI,
// and the card its message.updated brings, with what the page said shown as text only.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import type { Message } from '../sdk/src/types.js';
import { ParleyProcess, waitFor } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

const PNG_SIZE = 24;
/** A real PNG (a violet square), so the browser decodes it: a broken one would be hidden. */
const PNG = png(PNG_SIZE, [0x81, 0x8c, 0xf8]);
const LONG_DESCRIPTION = Array.from({ length: 8 }, (_, i) => `Sentence ${i + 1} of a description longer than three lines.`).join(' ');
/** What a hostile page may put in its tags; HTML-escaped in the attribute, so the server reads it as text. */
const HOSTILE_TITLE = '<img src=x onerror="window.__injected=1">Tricky <b>title</b>';
const HOSTILE_DESCRIPTION = '<script>window.__injected=2</script><a href="javascript:alert(1)">click</a>';
const HOSTILE_SITE = '<i>Evil</i> site';

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const page = (metas: Record<string, string>, title = 'Ignored') =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title>` +
  Object.entries(metas)
    .map(([k, v]) => `<meta property="${k}" content="${escape(v)}">`)
    .join('') +
  '</head><body><p>body text</p></body></html>';

const PAGES: Record<string, string> = {
  '/article': page({
    'og:title': 'Parley & friends',
    'og:description': LONG_DESCRIPTION,
    'og:site_name': 'Parley Docs',
    'og:image': '/card.png', // relative: the server makes it absolute
  }),
  '/bare': '<!doctype html><html><head></head><body><p>nothing to preview</p></body></html>',
  '/hostile': page({ 'og:title': HOSTILE_TITLE, 'og:description': HOSTILE_DESCRIPTION, 'og:site_name': HOSTILE_SITE, 'og:image': '/missing.png' }),
  '/picture': page({ 'og:image': '/card.png' }, ''),
};

function png(size: number, [r, g, b]: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.from([0, ...Array.from({ length: size }, () => [r, g, b]).flat()]); // filter: none
  const pixels = deflateSync(Buffer.concat(Array.from({ length: size }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
}

let server: ParleyProcess;
let browser: Browser;
let site: Server;
let siteUrl: string;
let api: ParleyClient;
let channelId: string;
/** Signed in and in #Links, from the start. */
let alice: Page;
let bob: Page;
const hits: Hit[] = [];
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  site = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    hits.push({ path, headers: req.headers });
    if (path === '/card.png') return res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
    const html = PAGES[path];
    if (html === undefined) return res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  // Loopback is refused to outgoing requests unless allowed; a quick job poll keeps previews prompt.
  server = await ParleyProcess.start({ webDir: appDist, args: ['--outbound-allow', '127.0.0.1/32', '--jobs-poll-ms', '50'] });
  const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
  api = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
  channelId = (await api.createChannel({ type: 'group', name: 'Links', members: ['bob'] })).id;
  browser = await launchChromium();
  [alice, bob] = await Promise.all([openLinks('alice'), openLinks('bob')]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
  await new Promise<void>((resolve) => (site ? site.close(() => resolve()) : resolve()));
});

async function openLinks(user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(context);
  const p = await context.newPage();
  pages.push(p);
  await p.goto(server.baseUrl);
  await p.getByRole('button', { name: `Sign in as ${user}` }).click();
  await p.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^Links\b/ }).click();
  await p.getByRole('textbox', { name: 'Message #Links', exact: true }).waitFor();
  return p;
}

/** Sends through the composer; answers the message as shown (not the pending copy). */
async function send(p: Page, text: string): Promise<Locator> {
  const box = p.getByRole('textbox', { name: 'Message #Links', exact: true });
  await box.fill(text);
  await box.press('Enter');
  const shown = p.locator('.messages .message:not(.pending)', { has: p.locator('.text', { hasText: text }) });
  await shown.waitFor();
  // By seq: the text changes with an edit.
  return p.locator(`.messages .message[data-seq="${await shown.getAttribute('data-seq')}"]`);
}

/** preview.message jobs the server finished, from its metrics. */
async function previewJobsDone(): Promise<number> {
  const text = await (await fetch(`${server.baseUrl}/metrics`)).text();
  const m = /^parley_jobs_finished_total\{kind="preview\.message",outcome="succeeded"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

const stored = async (seq: number): Promise<Message> => api.getMessage(channelId, seq);

describe('link previews in chromium', () => {
  it('shows the card a page’s OpenGraph tags make: site, title linked to the page, clamped description, thumbnail', async () => {
    await withScreenshots('previews-card', () => pages, async () => {
      const url = `${siteUrl}/article`;
      const item = await send(alice, `have a look: ${url} !`);

      for (const p of [alice, bob]) {
        const mine = p === alice ? item : p.locator('.messages .message', { hasText: url });
        const card = mine.getByRole('article', { name: 'Link preview: Parley & friends' });
        await card.waitFor({ timeout: 10_000 });
        expect(await card.locator('.link-preview-site').textContent()).toBe('Parley Docs');
        const link = card.getByRole('link', { name: 'Parley & friends' });
        expect(await link.getAttribute('href')).toBe(url);
        expect(await link.getAttribute('target')).toBe('_blank');
        expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
        const description = card.locator('.link-preview-description');
        expect(await description.textContent()).toBe(LONG_DESCRIPTION);
        // Clamped to three lines: the rest is cut off, not shown.
        const box = await description.evaluate((el) => ({
          clipped: el.scrollHeight > el.clientHeight,
          lines: el.clientHeight / parseFloat(getComputedStyle(el).lineHeight),
        }));
        expect(box.clipped).toBe(true);
        expect(Math.round(box.lines)).toBe(3);

        const img = card.locator('img');
        expect(await img.getAttribute('src')).toBe(`${siteUrl}/card.png`);
        expect(await img.getAttribute('loading')).toBe('lazy');
        expect(await img.getAttribute('referrerpolicy')).toBe('no-referrer');
        await waitFor(() => img.evaluate((el: HTMLImageElement, size) => el.complete && el.naturalWidth === size, PNG_SIZE), 10_000, 'the thumbnail to load');
        const size = await img.boundingBox();
        expect(size!.width).toBeLessThanOrEqual(80);
        expect(size!.height).toBeLessThanOrEqual(80);
      }
      // The browsers fetched the image without telling the site where they were.
      const imageHits = hits.filter((h) => h.path === '/card.png');
      expect(imageHits.length).toBeGreaterThanOrEqual(1);
      for (const h of imageHits) expect(h.headers.referer).toBeUndefined();

      // The card stays in history: after a reload it comes from the REST page.
      await alice.reload();
      await alice.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^Links\b/ }).click();
      await alice.getByRole('article', { name: 'Link preview: Parley & friends' }).waitFor();
    });
  });

  it('shows no card for a page with nothing to preview', async () => {
    await withScreenshots('previews-none', () => pages, async () => {
      const before = await previewJobsDone();
      const item = await send(alice, `nothing here: ${siteUrl}/bare`);
      await waitFor(() => hits.some((h) => h.path === '/bare'), 10_000, 'the server to fetch the page');
      await waitFor(async () => (await previewJobsDone()) > before, 10_000, 'the preview job to finish');
      const seq = Number(await item.getAttribute('data-seq'));
      expect((await stored(seq)).link_previews).toEqual([]);
      // A card after the job could only come from an event; give one a moment to arrive.
      await alice.waitForTimeout(300);
      expect(await item.locator('.link-previews, .link-preview').count()).toBe(0);
    });
  });

  it('shows what a page’s tags say as text: no element of theirs reaches the page, and a broken image is dropped', async () => {
    await withScreenshots('previews-hostile', () => pages, async () => {
      const url = `${siteUrl}/hostile`;
      const item = await send(alice, `careful: ${url}`);
      const card = item.locator('.link-preview');
      await card.waitFor({ timeout: 10_000 });
      // The server passed the tags on as they were written.
      const seq = Number(await item.getAttribute('data-seq'));
      expect((await stored(seq)).link_previews).toEqual([
        { url, title: HOSTILE_TITLE, description: HOSTILE_DESCRIPTION, site_name: HOSTILE_SITE, image_url: `${siteUrl}/missing.png` },
      ]);

      expect(await card.getAttribute('aria-label')).toBe(`Link preview: ${HOSTILE_TITLE}`);
      expect(await card.locator('.link-preview-title').textContent()).toBe(HOSTILE_TITLE);
      expect(await card.locator('.link-preview-description').textContent()).toBe(HOSTILE_DESCRIPTION);
      expect(await card.locator('.link-preview-site').textContent()).toBe(HOSTILE_SITE);
      // The only elements are the card's own; the 404 image is removed once it fails.
      await waitFor(async () => (await card.locator('img').count()) === 0, 10_000, 'the broken thumbnail to be hidden');
      const tags = await card.evaluate((el) => Array.from(el.querySelectorAll('*'), (e) => e.tagName.toLowerCase()));
      expect(tags).toEqual(['div', 'p', 'a', 'p']);
      expect(await card.getByRole('link').count()).toBe(1);
      expect(await alice.evaluate(() => (window as { __injected?: unknown }).__injected)).toBeUndefined();
    });
  });

  it('shows just the image, linked, for a page that only has one; an edit to another URL replaces the card', async () => {
    await withScreenshots('previews-image-only', () => pages, async () => {
      const item = await send(alice, `first ${siteUrl}/article`);
      await item.getByRole('article', { name: 'Link preview: Parley & friends' }).waitFor({ timeout: 10_000 });

      await item.getByRole('button', { name: 'Edit message' }).click();
      const edit = alice.getByRole('textbox', { name: 'Edit message' });
      await edit.fill(`now a picture: ${siteUrl}/picture`);
      await edit.press('Enter');
      const figure = item.getByRole('figure', { name: 'Link preview: image from 127.0.0.1' });
      await figure.waitFor({ timeout: 10_000 });
      expect(await item.getByRole('article', { name: /^Link preview/ }).count()).toBe(0);
      const link = figure.getByRole('link', { name: 'Image from 127.0.0.1' });
      expect(await link.getAttribute('href')).toBe(`${siteUrl}/picture`);
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
      expect(await figure.locator('img').getAttribute('src')).toBe(`${siteUrl}/card.png`);
      expect(await figure.locator('.link-preview-title, .link-preview-description').count()).toBe(0);
    });
  });
});
