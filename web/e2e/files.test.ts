// Files in chromium against the real server (local storage in its data folder): an image by
// the attach button, its progress, the inline image and the lightbox; a text file as a card
// whose download link serves the bytes; drop and paste; a cancelled upload; an avatar.
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyClient } from '../sdk/src/client.js';
import { fileAttachments, formatFileSize } from '../sdk/src/files.js';
import { ParleyProcess, waitFor } from '../testing/parley-server.js';
import { appDist, launchChromium, withScreenshots } from './browser.js';

/** A real PNG of one colour (the browser has to decode it). */
function png(width: number, height: number, [r, g, b]: number[]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.alloc(1 + width * 3);
  for (let x = 0; x < width; x++) row.set([r, g, b], 1 + x * 3);
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

const CAT = png(1600, 1000, [0xe0, 0x8a, 0x3c]);
const NOTES = Buffer.from('Meeting notes\nfirst: files\nsecond: more files\n', 'utf8');

let server: ParleyProcess;
let browser: Browser;
let api: ParleyClient;
let channelId: string;
let alice: Page;
let bob: Page;
const contexts: BrowserContext[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  server = await ParleyProcess.start({ webDir: appDist });
  const pair = await new ParleyClient({ baseUrl: server.baseUrl }).demoSession('alice');
  api = new ParleyClient({ baseUrl: server.baseUrl, token: pair.access_token });
  channelId = (await api.createChannel({ type: 'group', name: 'Files', members: ['bob'] })).id;
  browser = await launchChromium();
  [alice, bob] = await Promise.all([openFiles('alice'), openFiles('bob')]);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  await server?.dispose();
});

async function openFiles(user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(context);
  const p = await context.newPage();
  pages.push(p);
  await p.goto(server.baseUrl);
  await p.getByRole('button', { name: `Sign in as ${user}` }).click();
  await p.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^Files\b/ }).click();
  await box(p).waitFor();
  await p.locator('.app[data-connection="open"]').waitFor({ timeout: 15_000 });
  return p;
}

const box = (p: Page) => p.getByRole('textbox', { name: 'Message #Files', exact: true });
const attached = (p: Page) => p.getByRole('list', { name: 'Attached files' });

/** Picks files through the attach button's file chooser. */
async function attach(p: Page, files: { name: string; mimeType: string; buffer: Buffer }[]): Promise<void> {
  const [chooser] = await Promise.all([p.waitForEvent('filechooser'), p.getByRole('button', { name: 'Attach files' }).click()]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles(files);
}

/** Sends what the composer holds; answers the stored message as shown (by seq). */
async function sendAndFind(p: Page, text: string): Promise<Locator> {
  await box(p).fill(text);
  await box(p).press('Enter');
  const shown = p.locator('.messages .message:not(.pending)', { has: p.locator('.text', { hasText: text }) });
  await shown.waitFor();
  return p.locator(`.messages .message[data-seq="${await shown.getAttribute('data-seq')}"]`);
}

const naturalWidth = (img: Locator) => img.evaluate((el) => (el as HTMLImageElement).naturalWidth);

describe('files in chromium', () => {
  it('uploads an image by the attach button: progress ends, the image shows inline at its size, the lightbox opens and Escape closes it', async () => {
    await withScreenshots('files-image', () => pages, async () => {
      await attach(alice, [{ name: 'cat.png', mimeType: 'image/png', buffer: CAT }]);
      const item = attached(alice).getByRole('listitem', { name: /^cat\.png, / });
      await item.waitFor();
      await attached(alice).getByRole('listitem', { name: 'cat.png, attached' }).waitFor({ timeout: 20_000 });
      expect(await item.locator('progress').count()).toBe(0);
      expect(await item.textContent()).toContain(formatFileSize(CAT.length));

      const message = await sendAndFind(alice, 'a cat');
      expect(await attached(alice).count()).toBe(0);
      const img = message.getByRole('img', { name: 'cat.png' });
      await waitFor(async () => (await naturalWidth(img)) > 0, 15_000, 'the inline image to load');
      // Laid out from the stored width and height (1600×1000 fit into 360×280), a thumbnail loaded.
      expect(await img.getAttribute('width')).toBe('360');
      expect(await img.getAttribute('height')).toBe('225');
      expect(await img.getAttribute('src')).toMatch(/[?&]v=1024&/);
      const stored = await api.getMessage(channelId, Number(await message.getAttribute('data-seq')));
      expect(fileAttachments(stored)).toMatchObject([{ type: 'file', name: 'cat.png', content_type: 'image/png', image: { width: 1600, height: 1000 } }]);

      // Bob sees it live.
      const theirs = bob.locator('.messages .message', { hasText: 'a cat' }).getByRole('img', { name: 'cat.png' });
      await waitFor(async () => (await naturalWidth(theirs)) > 0, 15_000, 'bob’s copy of the image to load');

      await message.getByRole('button', { name: 'Open image cat.png' }).click();
      const lightbox = alice.getByRole('dialog', { name: 'cat.png' });
      await lightbox.waitFor();
      await waitFor(async () => (await naturalWidth(lightbox.getByRole('img', { name: 'cat.png' }))) > 0, 15_000, 'the lightbox image to load');
      expect(await lightbox.textContent()).toContain('1600×1000');
      await waitFor(async () => alice.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Close image'), 5_000, 'focus on the close button');
      await alice.keyboard.press('Escape');
      await lightbox.waitFor({ state: 'detached' });
      expect(await alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe('Open image cat.png');
    });
  });

  it('shows a non-image file as a card with name, size and type, whose download link serves the bytes', async () => {
    await withScreenshots('files-card', () => pages, async () => {
      await attach(alice, [{ name: 'notes.txt', mimeType: 'text/plain', buffer: NOTES }]);
      await attached(alice).getByRole('listitem', { name: 'notes.txt, attached' }).waitFor({ timeout: 20_000 });
      const message = await sendAndFind(alice, 'the notes');
      const card = message.getByRole('article', { name: 'File notes.txt' });
      await card.waitFor();
      expect(await card.textContent()).toContain(`${NOTES.length} B · Text`);
      const link = card.getByRole('link', { name: 'Download notes.txt' });
      await link.waitFor();
      const href = new URL((await link.getAttribute('href'))!, server.baseUrl).toString();
      const res = await fetch(href);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toMatch(/^attachment/);
      expect(Buffer.from(await res.arrayBuffer()).equals(NOTES)).toBe(true);
      // Bob, a member, gets his own working link.
      const theirs = bob.locator('.messages .message', { hasText: 'the notes' }).getByRole('link', { name: 'Download notes.txt' });
      await theirs.waitFor({ timeout: 10_000 });
      const bobs = await fetch(new URL((await theirs.getAttribute('href'))!, server.baseUrl));
      expect(Buffer.from(await bobs.arrayBuffer()).equals(NOTES)).toBe(true);
    });
  });

  it('takes files dropped on the conversation and images pasted into the message box; a file is removable before sending', async () => {
    await withScreenshots('files-drop-paste', () => pages, async () => {
      const channel = alice.getByRole('region', { name: '#Files' });
      await channel.evaluate(async (el, bytes) => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
        el.dispatchEvent(new DragEvent('dragenter', { bubbles: true, cancelable: true, dataTransfer: dt }));
        el.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
        el.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
      }, [...png(40, 30, [0x30, 0x90, 0x40])]);
      await attached(alice).getByRole('listitem', { name: 'dropped.png, attached' }).waitFor({ timeout: 20_000 });
      expect(await alice.locator('.drop-hint').count()).toBe(0);

      await box(alice).evaluate((el) => {
        const dt = new DataTransfer();
        dt.items.add(new File(['not an image, removed before sending'], 'extra.txt', { type: 'text/plain' }));
        el.dispatchEvent(new ClipboardEvent('paste', { bubbles: true, cancelable: true, clipboardData: dt }));
      });
      await attached(alice).getByRole('listitem', { name: 'extra.txt, attached' }).waitFor({ timeout: 20_000 });
      await alice.getByRole('button', { name: 'Remove extra.txt' }).click();
      expect(await attached(alice).getByRole('listitem').count()).toBe(1);

      const message = await sendAndFind(alice, 'dropped in');
      await waitFor(async () => (await naturalWidth(message.getByRole('img', { name: 'dropped.png' }))) > 0, 15_000, 'the dropped image');
      expect(await message.getByRole('article', { name: 'File extra.txt' }).count()).toBe(0);
    });
  });

  it('cancels an upload on its way: it leaves the composer and the message goes without it', async () => {
    await withScreenshots('files-cancel', () => pages, async () => {
      // The upload's answer never comes: it is on its way until cancelled.
      let seen = 0;
      await alice.route('**/v1/files', (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        seen++;
        // Leave it hanging; the abort in the page ends it.
      });
      try {
        await attach(alice, [{ name: 'slow.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(256 * 1024, 7) }]);
        const item = attached(alice).getByRole('listitem', { name: 'slow.bin, uploading' });
        await item.waitFor();
        await item.getByRole('progressbar', { name: 'Uploading slow.bin' }).waitFor();
        await waitFor(() => seen === 1, 10_000, 'the upload request');
        expect(await alice.getByRole('button', { name: 'Send message' }).isDisabled()).toBe(true);
        await alice.getByRole('button', { name: 'Cancel upload of slow.bin' }).click();
        await item.waitFor({ state: 'detached' });
        expect(await attached(alice).count()).toBe(0);
      } finally {
        await alice.unroute('**/v1/files');
      }
      const message = await sendAndFind(alice, 'no file after all');
      const stored = await api.getMessage(channelId, Number(await message.getAttribute('data-seq')));
      expect(stored.attachments).toEqual([]);
    });
  });

  it('uploads an avatar in the profile dialog and shows it', async () => {
    await withScreenshots('files-avatar', () => pages, async () => {
      await alice.getByRole('button', { name: 'Profile' }).click();
      const dialog = alice.getByRole('dialog', { name: 'Your profile' });
      await dialog.waitFor();
      await dialog.getByRole('img', { name: 'Picture of Alice' }).waitFor(); // the initial, before
      const [chooser] = await Promise.all([alice.waitForEvent('filechooser'), dialog.getByRole('button', { name: 'Change picture' }).click()]);
      await chooser.setFiles({ name: 'me.png', mimeType: 'image/png', buffer: png(300, 300, [0x4f, 0x46, 0xe5]) });
      await dialog.getByText('Picture updated.').waitFor({ timeout: 20_000 });

      const me = await api.me();
      expect(me.image_url).not.toBe('');
      const picture = dialog.locator('img.avatar');
      expect(new URL((await picture.getAttribute('src'))!, server.baseUrl).toString()).toBe(new URL(me.image_url, server.baseUrl).toString());
      await waitFor(async () => (await naturalWidth(picture)) > 0, 15_000, 'the avatar to load');
      // The stable URL needs no token.
      expect((await fetch(new URL(me.image_url, server.baseUrl))).status).toBe(200);
      await alice.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await waitFor(async () => (await naturalWidth(alice.locator('.sidebar-head img.avatar'))) > 0, 10_000, 'the avatar in the sidebar');
    });
  });
});
