import { beforeEach, describe, expect, it } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { blurhashColor, describeFileType, fileAttachments, fitImage, formatFileSize, pickVariant } from '../../src/files.js';
import type { FetchLike, XhrLike } from '../../src/http.js';
import { MessageListStore } from '../../src/stores/messages.js';
import type { ParleyFile } from '../../src/types.js';
import { FakeSocket, fakeFetch, fakeJwt, flush, history, message, type Route } from './fakes.js';

const token = fakeJwt('alice', Math.floor(Date.now() / 1000) + 3600);
const inAnHour = () => new Date(Date.now() + 3600_000).toISOString();

function file(id: string, extra: Partial<ParleyFile> = {}): ParleyFile {
  return {
    id,
    purpose: 'attachment',
    name: `${id}.png`,
    content_type: 'image/png',
    size: 10,
    sha256: '0'.repeat(64),
    state: 'ready',
    uploader_id: 'alice',
    channel_id: null,
    created_at: '2026-01-01T00:00:00.000Z',
    image: { width: 2000, height: 1000, blurhash: 'LKO2?U%2Tw=w]~RBVZRi};RPxuwH' },
    variants: [],
    url: `http://parley.test/v1/files/${id}/content?exp=1&sig=s`,
    url_expires_at: inAnHour(),
    ...extra,
  };
}

interface RawCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** A fetch that keeps bodies as they were given (FormData, Blob), answering from `route`. */
function rawFetch(route: (c: RawCall) => { status?: number; body?: unknown }): FetchLike & { calls: RawCall[] } {
  const calls: RawCall[] = [];
  const f = (async (url: string, init?: RequestInit) => {
    const headers = Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const call = { method: init?.method ?? 'GET', url, headers, body: init?.body };
    calls.push(call);
    const a = route(call);
    const status = a.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(a.body ?? {}), { status, headers: { 'content-type': 'application/json' } });
  }) as FetchLike & { calls: RawCall[] };
  f.calls = calls;
  return f;
}

/** A scripted XMLHttpRequest: the test drives progress and the answer. */
class FakeXhr implements XhrLike {
  static last: FakeXhr | undefined;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  body: unknown;
  aborted = false;
  status = 0;
  responseText = '';
  onload: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onabort: ((ev: unknown) => void) | null = null;
  upload: XhrLike['upload'] = { onprogress: null };
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string): void {
    this.headers[name.toLowerCase()] = value;
  }
  getResponseHeader(): string | null {
    return null;
  }
  send(body?: unknown): void {
    this.body = body;
  }
  abort(): void {
    this.aborted = true;
    this.onabort?.({});
  }
  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ loaded, total, lengthComputable: true });
  }
  answer(status: number, body: unknown): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.({});
  }
}

beforeEach(() => {
  FakeSocket.reset();
  FakeXhr.last = undefined;
});

describe('uploading', () => {
  it('uploadFile posts a multipart form (purpose, then the file under its name) with the bearer token', async () => {
    const fetch = rawFetch(() => ({ status: 201, body: { file: file('f_1', { purpose: 'avatar' }) } }));
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, XMLHttpRequest: null });
    const progress: number[] = [];
    const blob = new Blob(['0123456789'], { type: 'image/png' });
    const f = await client.uploadFile(blob, { purpose: 'avatar', name: 'me.png', onProgress: (p) => progress.push(p.loaded / p.total) });
    expect(f.id).toBe('f_1');
    const call = fetch.calls[0];
    expect(call).toMatchObject({ method: 'POST', url: 'http://parley.test/v1/files' });
    expect(call.headers.authorization).toBe(`Bearer ${token}`);
    expect(call.headers['content-type']).toBeUndefined(); // fetch sets the multipart boundary
    const form = call.body as FormData;
    const keys: string[] = [];
    form.forEach((_, k) => keys.push(k));
    expect(keys).toEqual(['purpose', 'file']);
    expect(form.get('purpose')).toBe('avatar');
    expect((form.get('file') as File).name).toBe('me.png');
    expect(progress).toEqual([0, 1]); // without XMLHttpRequest: only the start and the end
    // Kept in the cache: no request for its URL.
    expect(await client.getFile('f_1')).toBe(f);
    expect(fetch.calls).toHaveLength(1);
  });

  it('reports upload progress through XMLHttpRequest and a refused upload as ParleyError', async () => {
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch: fakeFetch(() => undefined), XMLHttpRequest: FakeXhr });
    const seen: [number, number][] = [];
    const blob = new Blob([new Uint8Array(1000)]);
    const up = client.uploadFile(blob, { onProgress: (p) => seen.push([p.loaded, p.total]) });
    await flush();
    const xhr = FakeXhr.last!;
    expect(xhr).toMatchObject({ method: 'POST', url: 'http://parley.test/v1/files' });
    expect(xhr.headers.authorization).toBe(`Bearer ${token}`);
    expect((xhr.body as FormData).get('file')).toBeInstanceOf(Blob);
    xhr.progress(400, 1200); // the multipart framing counts too: capped at the file's size
    xhr.progress(1200, 1200);
    xhr.answer(413, { error: { code: 'payload_too_large', message: 'too big', details: { limit: 500 } } });
    const e = await up.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParleyError);
    expect(e).toMatchObject({ status: 413, code: 'payload_too_large', details: { limit: 500 } });
    expect(seen).toEqual([
      [0, 1000],
      [400, 1000],
      [1000, 1000],
    ]);
  });

  it('cancels an upload through its AbortSignal: the request is aborted, the call fails with code aborted', async () => {
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch: fakeFetch(() => undefined), XMLHttpRequest: FakeXhr });
    const ctl = new AbortController();
    const up = client.uploadFile(new Blob(['x']), { signal: ctl.signal });
    await flush();
    ctl.abort();
    await expect(up).rejects.toMatchObject({ status: 0, code: 'aborted' });
    expect(FakeXhr.last!.aborted).toBe(true);
    // Aborted before it started: nothing is sent.
    FakeXhr.last = undefined;
    await expect(client.uploadFile(new Blob(['x']), { signal: ctl.signal })).rejects.toMatchObject({ code: 'aborted' });
    expect(FakeXhr.last).toBeUndefined();
  });

  it('sends an upload again with a fresh token after 401 token_expired', async () => {
    let n = 0;
    const fetch = rawFetch((c) =>
      c.headers.authorization === 'Bearer old'
        ? { status: 401, body: { error: { code: 'token_expired', message: 'expired', details: {} } } }
        : { status: 201, body: { file: file(`f_${++n}`) } },
    );
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token: 'old', fetch, XMLHttpRequest: null, tokenProvider: async () => 'new' });
    expect((await client.uploadFile(new Blob(['abc']), { name: 'a.txt' })).id).toBe('f_1');
    expect(fetch.calls.map((c) => c.headers.authorization)).toEqual(['Bearer old', 'Bearer new']);
    expect(((fetch.calls[1].body as FormData).get('file') as File).name).toBe('a.txt');
  });

  it('uploadFileDirect creates the upload, PUTs the bytes with its headers (no token, not the transport’s own), then completes it', async () => {
    const pending = file('f_d', { state: 'pending', url: null, url_expires_at: null, image: null, content_type: 'video/mp4' });
    const fetch = rawFetch((c) => {
      if (c.url.endsWith('/v1/files/uploads')) {
        return {
          status: 201,
          body: { file: pending, upload: { method: 'PUT', url: 'https://bucket.s3.test/app/f_d?X-Amz-Signature=x', headers: { 'content-type': 'video/mp4' }, expires_at: inAnHour() } },
        };
      }
      if (c.url.startsWith('https://bucket.s3.test/')) return { status: 200, body: {} };
      if (c.url.endsWith('/v1/files/f_d/complete')) return { body: { file: { ...pending, state: 'ready', url: 'http://x/c' } } };
      return { status: 404 };
    });
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, XMLHttpRequest: null, headers: { 'X-App-Build': '7' } });
    const blob = new Blob([new Uint8Array(42)], { type: 'video/mp4' });
    const done = await client.uploadFileDirect(blob, { name: 'big.mp4' });
    expect(done.state).toBe('ready');
    expect(fetch.calls.map((c) => `${c.method} ${c.url.replace(/\?.*/, '')}`)).toEqual([
      'POST http://parley.test/v1/files/uploads',
      'PUT https://bucket.s3.test/app/f_d',
      'POST http://parley.test/v1/files/f_d/complete',
    ]);
    expect(JSON.parse(fetch.calls[0].body as string)).toEqual({ name: 'big.mp4', size: 42, content_type: 'video/mp4' });
    const put = fetch.calls[1];
    expect(put.url).toBe('https://bucket.s3.test/app/f_d?X-Amz-Signature=x');
    expect(put.headers['content-type']).toBe('video/mp4');
    expect(put.headers.authorization).toBeUndefined();
    // A bucket's CORS rules allow the signed headers; others would fail its preflight.
    expect(put.headers['x-app-build']).toBeUndefined();
    expect(fetch.calls[0].headers['x-app-build']).toBe('7');
    expect(put.body).toBe(blob);
  });

  it('a direct upload that fails after its create deletes the pending file', async () => {
    const pending = file('f_p', { state: 'pending', url: null, url_expires_at: null });
    const fetch = rawFetch((c) => {
      if (c.url.endsWith('/v1/files/uploads')) {
        return { status: 201, body: { file: pending, upload: { method: 'PUT', url: 'http://parley.test/v1/files/f_p/upload?sig=s', headers: {}, expires_at: inAnHour() } } };
      }
      if (c.method === 'PUT') return { status: 403, body: { error: { code: 'forbidden', message: 'expired', details: {} } } };
      if (c.method === 'DELETE') return { status: 204 };
      return { status: 404 };
    });
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, XMLHttpRequest: null });
    await expect(client.uploadFileDirect(new Blob(['abc']))).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await flush();
    expect(fetch.calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://parley.test/v1/files/f_p' });
    expect(JSON.parse(fetch.calls[0].body as string).name).toBe('file');
  });
});

describe('files and their URLs', () => {
  it('getFiles merges the ids asked for in one task into requests of at most 100, in the order asked, unseen ones left out', async () => {
    const fetch = fakeFetch((c) => (c.path === '/v1/files' ? { body: { files: c.query.get('ids')!.split(',').filter((id) => id !== 'f_7').map((id) => file(id)) } } : undefined));
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    const ids = Array.from({ length: 230 }, (_, i) => `f_${i}`);
    const [a, b, c] = await Promise.all([client.getFiles(ids.slice(0, 150)), client.getFiles(ids.slice(100)), client.getFiles(['f_3', 'f_3'])]);
    expect(fetch.calls.map((x) => x.query.get('ids')!.split(',').length)).toEqual([100, 100, 30]);
    expect(new Set(fetch.calls.flatMap((x) => x.query.get('ids')!.split(','))).size).toBe(230);
    expect(a.map((f) => f.id)).toEqual(ids.slice(0, 150).filter((id) => id !== 'f_7'));
    expect(b).toHaveLength(130);
    expect(c.map((f) => f.id)).toEqual(['f_3']);
    // Cached now; an unseen one is asked again (it may be visible later).
    await client.getFiles(['f_1', 'f_200', 'f_7']);
    expect(fetch.calls).toHaveLength(4);
    expect(fetch.calls[3].query.get('ids')).toBe('f_7');
  });

  it('a failed batch fails every caller waiting on it, and the next ask tries again', async () => {
    let down = true;
    const fetch = fakeFetch((c) =>
      c.path !== '/v1/files' ? undefined : down ? { status: 503, body: { error: { code: 'unavailable', message: 'down', details: {} } } } : { body: { files: [file('f_1')] } },
    );
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    const [a, b] = await Promise.allSettled([client.getFiles(['f_1']), client.getFiles(['f_1', 'f_2'])]);
    expect([a.status, b.status]).toEqual(['rejected', 'rejected']);
    expect(fetch.calls).toHaveLength(1);
    down = false;
    expect((await client.getFiles(['f_1'])).map((f) => f.id)).toEqual(['f_1']);
  });

  it('fetches a file again once its URL is within a minute of expiring; stable URLs never', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    let n = 0;
    const fetch = fakeFetch((c) => {
      if (c.path !== '/v1/files') return undefined;
      n++;
      return {
        body: {
          files: [
            file('f_a', { url: `http://x/a?v=${n}`, url_expires_at: new Date(now + 600_000).toISOString() }),
            file('f_av', { purpose: 'avatar', url: 'http://x/avatar', url_expires_at: null }),
          ],
        },
      };
    });
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, fileCache: { now: () => now } });
    expect((await client.getFiles(['f_a', 'f_av'])).map((f) => f.url)).toEqual(['http://x/a?v=1', 'http://x/avatar']);
    now += 530_000; // 70 s left
    expect((await client.getFile('f_a')).url).toBe('http://x/a?v=1');
    now += 20_000; // 50 s left: refreshed
    expect((await client.getFiles(['f_a', 'f_av'])).map((f) => f.url)).toEqual(['http://x/a?v=2', 'http://x/avatar']);
    expect(fetch.calls[1].query.get('ids')).toBe('f_a');
  });

  it('getFile fresh asks the server; deleteFile drops the cached copy', async () => {
    const fetch = fakeFetch((c) => {
      if (c.method === 'DELETE') return { status: 204 };
      if (c.path === '/v1/files/f_1') return { body: { file: file('f_1') } };
      if (c.path === '/v1/files') return { body: { files: [] } };
      return undefined;
    });
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    await client.getFile('f_1');
    await client.getFile('f_1', { fresh: true });
    await client.deleteFile('f_1');
    expect(await client.getFiles(['f_1'])).toEqual([]);
    expect(fetch.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /v1/files/f_1', 'GET /v1/files/f_1', 'DELETE /v1/files/f_1', 'GET /v1/files']);
  });

  it('setAvatar and setChannelImage send the image_file_id', async () => {
    const fetch = fakeFetch((c) => (c.path === '/v1/users/me' ? { body: { user: { id: 'alice', image_url: 'http://x/av' } } } : { body: { channel: { id: 'ch_1' } } }));
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    expect((await client.setAvatar('f_av')).image_url).toBe('http://x/av');
    await client.setChannelImage('ch_1', 'f_ci');
    expect(fetch.calls.map((c) => [c.method, c.path, c.body])).toEqual([
      ['PATCH', '/v1/users/me', { image_file_id: 'f_av' }],
      ['PATCH', '/v1/channels/ch_1', { image_file_id: 'f_ci' }],
    ]);
  });
});

describe('messages with files', () => {
  async function connected(route: Route) {
    const fetch = fakeFetch(route);
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, WebSocket: FakeSocket });
    const opened = client.connect();
    await flush();
    FakeSocket.last().accept('alice');
    await opened;
    return { client, fetch };
  }

  it('sends {file_id} attachments, shows them on the pending copy, and a retry sends them again', async () => {
    let fail = true;
    const { client, fetch } = await connected((c) => {
      if (c.method === 'POST' && c.path.endsWith('/messages')) {
        if (fail) return { status: 503, body: { error: { code: 'unavailable', message: 'busy', details: {} } } };
        return { status: 201, body: { message: message('ch', 1, 'alice', { text: '', client_msg_id: (c.body as { client_msg_id: string }).client_msg_id }), duplicate: false } };
      }
      return history([])(c);
    });
    const store = new MessageListStore(client, 'ch');
    await store.loadLatest();
    const sent = store.send('', { attachments: [{ file_id: 'f_1' }, { file_id: 'f_2' }] });
    expect(store.getSnapshot().pending[0].attachments).toEqual([{ file_id: 'f_1' }, { file_id: 'f_2' }]);
    await expect(sent).rejects.toMatchObject({ code: 'unavailable' });
    fail = false;
    const id = store.getSnapshot().pending[0].client_msg_id;
    await store.retry(id);
    const posts = fetch.calls.filter((c) => c.method === 'POST');
    expect(posts.map((c) => (c.body as { attachments: unknown }).attachments)).toEqual([
      [{ file_id: 'f_1' }, { file_id: 'f_2' }],
      [{ file_id: 'f_1' }, { file_id: 'f_2' }],
    ]);
    expect(store.getSnapshot().pending).toEqual([]);
    store.dispose();
    client.close();
  });

  it('fileAttachments picks the stored files out of the other attachments', () => {
    const a = { type: 'file', file_id: 'f_1', name: 'a.pdf', content_type: 'application/pdf', size: 3, image: null, variants: [] };
    expect(fileAttachments(message('ch', 1, 'bob', { attachments: [{ type: 'poll', q: '?' }, a, { type: 'file' }] }))).toEqual([a]);
  });
});

describe('file helpers', () => {
  it('formatFileSize reads like a file manager', () => {
    expect([0, 999, 1000, 1234, 18_000_000, 123_456_789, 2.5e12].map(formatFileSize)).toEqual(['0 B', '999 B', '1 KB', '1.2 KB', '18 MB', '123 MB', '2.5 TB']);
  });

  it('pickVariant takes the smallest thumbnail that covers the display at the pixel ratio', () => {
    const vs = [
      { name: '1024', width: 1024, height: 512 },
      { name: '64', width: 64, height: 32 },
      { name: '256', width: 256, height: 128 },
    ];
    expect(pickVariant(vs, 200)?.name).toBe('256');
    expect(pickVariant(vs, 200, 2)?.name).toBe('1024');
    expect(pickVariant(vs, 2000)?.name).toBe('1024');
    expect(pickVariant([], 100)).toBeUndefined();
  });

  it('fitImage keeps the aspect ratio and never enlarges', () => {
    expect(fitImage(2000, 1000, 360, 280)).toEqual({ width: 360, height: 180 });
    expect(fitImage(100, 400, 360, 280)).toEqual({ width: 70, height: 280 });
    expect(fitImage(40, 30, 360, 280)).toEqual({ width: 40, height: 30 });
  });

  it('blurhashColor decodes the average colour; describeFileType names types', () => {
    expect(blurhashColor('LKO2?U%2Tw=w]~RBVZRi};RPxuwH')).toBe('#d1b2a3');
    expect(blurhashColor('bad')).toBeUndefined();
    expect(blurhashColor(null)).toBeUndefined();
    expect(['application/pdf', 'image/png', 'application/vnd.ms-excel', 'text/plain; charset=utf-8', 'application/x-tar'].map(describeFileType)).toEqual([
      'PDF',
      'PNG image',
      'MS-EXCEL',
      'Text',
      'TAR',
    ]);
  });
});
