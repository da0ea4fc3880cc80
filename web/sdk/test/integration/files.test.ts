import { crc32, deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../src/client.js';
import { fileAttachments } from '../../src/files.js';
import type { Channel } from '../../src/types.js';
import { ParleyProcess, signIn } from './setup.js';

function png(width: number, height: number): Buffer {
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
  header.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.alloc(1 + width * 3, 0x80);
  row[0] = 0;
  const pixels = deflateSync(Buffer.concat(Array.from({ length: height }, () => row)));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))]);
}

let server: ParleyProcess;
let alice: ParleyClient;
let bob: ParleyClient;
let carol: ParleyClient;
let pair: Channel; // alice and bob

const bytesOf = async (url: string) => Buffer.from(await (await fetch(new URL(url, server.baseUrl))).arrayBuffer());

beforeAll(async () => {
  server = await ParleyProcess.start();
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => signIn(server, u)));
  pair = await alice.createChannel({ type: 'group', name: 'Files', members: ['bob'] });
});

afterAll(async () => {
  [alice, bob, carol].forEach((c) => c?.close());
  await server?.dispose();
});

describe('files against the server', () => {
  it('uploadFile: a ready image with its size, thumbnails and signed URLs; the bytes come back', async () => {
    const image = png(800, 400);
    const progress: number[] = [];
    const f = await alice.uploadFile(new Blob([new Uint8Array(image)], { type: 'image/png' }), { name: 'wide.png', onProgress: (p) => progress.push(p.loaded) });
    expect(f).toMatchObject({ name: 'wide.png', content_type: 'image/png', size: image.length, state: 'ready', purpose: 'attachment', uploader_id: 'alice' });
    expect(f.image).toMatchObject({ width: 800, height: 400 });
    expect(f.variants.map((v) => v.name).sort()).toEqual(['256', '64']);
    expect(progress.at(-1)).toBe(image.length);
    expect((await bytesOf(f.url!)).equals(image)).toBe(true);
    const v = f.variants.find((x) => x.name === '256')!;
    const thumb = await fetch(new URL(v.url!, server.baseUrl));
    expect(thumb.headers.get('content-type')).toBe('image/webp');
  });

  it('uploadFileDirect: create, PUT, complete; a message holds the file; members see it, others do not', async () => {
    const text = Buffer.from('hello direct upload\n');
    const f = await alice.uploadFileDirect(new Blob([new Uint8Array(text)], { type: 'text/plain' }), { name: 'hello.txt' });
    expect(f).toMatchObject({ state: 'ready', size: text.length, content_type: 'text/plain', image: null });
    const { message } = await alice.sendMessage(pair.id, { text: '', attachments: [{ file_id: f.id }] });
    expect(fileAttachments(message)).toMatchObject([{ type: 'file', file_id: f.id, name: 'hello.txt', size: text.length }]);
    const [seen] = await bob.getFiles([f.id]);
    expect(seen.id).toBe(f.id);
    expect((await bytesOf(seen.url!)).equals(text)).toBe(true);
    expect(await carol.getFiles([f.id])).toEqual([]);
    await expect(carol.getFile(f.id)).rejects.toMatchObject({ status: 404 });
    await expect(alice.deleteFile(f.id)).rejects.toMatchObject({ status: 409, code: 'conflict' });
  });

  it('createUpload refuses a file over the limit before any byte is sent: payload_too_large', async () => {
    await expect(alice.createUpload({ name: 'huge.bin', size: 200 * 1024 * 1024 })).rejects.toMatchObject({ status: 413, code: 'payload_too_large' });
  });

  it('a cancelled upload fails with code aborted', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(alice.uploadFile(new Blob(['x']), { signal: ctl.signal })).rejects.toMatchObject({ code: 'aborted' });
  });

  it('setAvatar: image_url becomes the avatar’s stable URL, fetched without a token', async () => {
    const f = await bob.uploadFile(new Blob([new Uint8Array(png(200, 200))], { type: 'image/png' }), { name: 'bob.png', purpose: 'avatar' });
    const me = await bob.setAvatar(f.id);
    expect(me.image_url).not.toBe('');
    const res = await fetch(new URL(me.image_url, server.baseUrl));
    expect(res.status).toBe(200);
    expect((await alice.getUser('bob')).image_url).toBe(me.image_url);
    // An attachment is no avatar.
    const other = await bob.uploadFile(new Blob([new Uint8Array(png(20, 20))], { type: 'image/png' }));
    const refused = (await bob.setAvatar(other.id).catch((e: { status: number }) => e)) as { status: number };
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
  });
});
