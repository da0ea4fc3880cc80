import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { formatSearchTotal, snippetSegments } from '../../src/search.js';
import { MessageListStore } from '../../src/stores/messages.js';
import { SearchStore } from '../../src/stores/search.js';
import type { Message, SearchHit, SearchPage } from '../../src/types.js';
import { FakeSocket, fakeFetch, fakeJwt, flush, history, message, newEvent, type Route } from './fakes.js';

const CH = 'ch_a';
const token = fakeJwt('alice', Math.floor(Date.now() / 1000) + 3600);

async function connected(route: Route) {
  const fetch = fakeFetch(route);
  const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, WebSocket: FakeSocket });
  const opened = client.connect();
  await flush();
  FakeSocket.last().accept('alice');
  await opened;
  return { client, fetch, ws: FakeSocket.last() };
}

function hit(seq: number, text = `message ${seq}`): SearchHit {
  return {
    message: message(CH, seq, 'bob', { text }),
    channel: { id: CH, type: 'group', name: 'A' },
    snippet: { text, highlights: [{ start: 0, end: 7 }] },
    score: 1 / seq,
  };
}

const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);
const hitSeqs = (hs: SearchHit[]) => hs.map((h) => h.message.seq);

beforeEach(() => FakeSocket.reset());

describe('search calls', () => {
  it('sends a message search as the API reads it: comma lists, RFC 3339 dates, true-only flags, in_thread both ways', async () => {
    const page: SearchPage = { items: [hit(3)], total: { count: 1, exact: true }, next_cursor: null };
    const fetch = fakeFetch(() => ({ body: page }));
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    expect(
      await client.searchMessages({
        q: '"release notes" -draft plan',
        channel_id: ['ch_a', 'ch_b'],
        from: 'bob',
        after: new Date(Date.UTC(2026, 0, 2, 3, 4, 5)),
        before: '2026-02-01T00:00:00Z',
        has: ['link', 'attachment'],
        in_thread: false,
        mentions_me: true,
        pinned: false,
        saved: undefined,
        include_public: true,
        sort: 'newest',
        limit: 10,
        cursor: 'c1',
      }),
    ).toEqual(page);
    const call = fetch.calls[0];
    expect(call.method).toBe('GET');
    expect(call.path).toBe('/v1/search/messages');
    expect(Object.fromEntries(call.query)).toEqual({
      q: '"release notes" -draft plan',
      channel_id: 'ch_a,ch_b',
      from: 'bob',
      after: '2026-01-02T03:04:05.000Z',
      before: '2026-02-01T00:00:00Z',
      has: 'link,attachment',
      in_thread: 'false',
      mentions_me: 'true',
      include_public: 'true',
      sort: 'newest',
      limit: '10',
      cursor: 'c1',
    });
    expect(call.headers.authorization).toBe(`Bearer ${token}`);

    await client.searchMessages({ q: 'x', in_thread: true, channel_id: [], has: [], remember: true });
    expect(Object.fromEntries(fetch.calls[1].query)).toEqual({ q: 'x', in_thread: 'true' });
    await client.searchMessages({ q: 'x', remember: false });
    expect(Object.fromEntries(fetch.calls[2].query)).toEqual({ q: 'x', remember: 'false' });
  });

  it('asks for channels and suggestions (an empty q too) and forgets recent searches', async () => {
    const fetch = fakeFetch((c) => {
      if (c.path === '/v1/search/channels') return { body: { mine: [], public: [] } };
      if (c.path === '/v1/search/suggest') return { body: { users: [], channels: [], recent: [{ query: 'plan', at: '2026-01-01T00:00:00.000Z' }] } };
      if (c.path === '/v1/search/recent' && c.method === 'DELETE') return { status: 204 };
      return undefined;
    });
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    expect(await client.searchChannels('eng ro', { limit: 5 })).toEqual({ mine: [], public: [] });
    expect(Object.fromEntries(fetch.calls[0].query)).toEqual({ q: 'eng ro', limit: '5' });
    expect((await client.searchSuggest('')).recent[0].query).toBe('plan');
    expect(fetch.calls[1].query.get('q')).toBe('');
    expect(fetch.calls[1].query.has('limit')).toBe(false);
    await expect(client.clearRecentSearches()).resolves.toBeUndefined();
    expect(fetch.calls[2]).toMatchObject({ method: 'DELETE', path: '/v1/search/recent' });
  });

  it('throws the API’s 400 with the bad parameter named', async () => {
    const fetch = fakeFetch(() => ({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'q: only exclusions', details: { parameter: 'q' } } },
    }));
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch });
    const e = await client.searchMessages({ q: '-word' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ParleyError);
    expect(e).toMatchObject({ status: 400, code: 'invalid_request', message: 'q: only exclusions', details: { parameter: 'q' } });
  });
});

describe('snippetSegments', () => {
  it('cuts the text at the highlights, matches marked, nothing lost', () => {
    expect(snippetSegments({ text: 'the plan for the release plan', highlights: [{ start: 4, end: 8 }, { start: 25, end: 29 }] })).toEqual([
      { text: 'the ', match: false },
      { text: 'plan', match: true },
      { text: ' for the release ', match: false },
      { text: 'plan', match: true },
    ]);
    expect(snippetSegments({ text: 'no matches', highlights: [] })).toEqual([{ text: 'no matches', match: false }]);
    expect(snippetSegments({ text: '', highlights: [] })).toEqual([]);
  });

  it('reads offsets as UTF-16 code units (an emoji is two)', () => {
    const text = '🎉 party 🎉 time';
    const start = text.indexOf('time');
    expect(start).toBe(12);
    expect(snippetSegments({ text, highlights: [{ start: 3, end: 8 }, { start, end: start + 4 }] })).toEqual([
      { text: '🎉 ', match: false },
      { text: 'party', match: true },
      { text: ' 🎉 ', match: false },
      { text: 'time', match: true },
    ]);
  });

  it('survives bad highlights: unsorted, overlapping, empty, out of range', () => {
    const segs = snippetSegments({
      text: 'abcdefghij',
      highlights: [{ start: 6, end: 8 }, { start: 1, end: 3 }, { start: 2, end: 4 }, { start: 5, end: 5 }, { start: 9, end: 99 }, { start: -3, end: 0 }],
    });
    expect(segs).toEqual([
      { text: 'a', match: false },
      { text: 'bc', match: true },
      { text: 'd', match: true },
      { text: 'ef', match: false },
      { text: 'gh', match: true },
      { text: 'i', match: false },
      { text: 'j', match: true },
    ]);
    expect(segs.map((s) => s.text).join('')).toBe('abcdefghij');
  });

  it('formats totals, capped ones as a lower bound', () => {
    expect(formatSearchTotal({ count: 57, exact: true })).toBe('57 results');
    expect(formatSearchTotal({ count: 1, exact: true })).toBe('1 result');
    expect(formatSearchTotal({ count: 0, exact: true })).toBe('0 results');
    expect(formatSearchTotal({ count: 1000, exact: false })).toBe('1000+ results');
  });
});

/** A fetch whose search answers the test releases one by one. */
function heldSearches() {
  const waiting: { q: string; cursor: string | null; signal: AbortSignal | undefined; answer: (page: SearchPage) => void }[] = [];
  const fetch = async (input: string, init?: RequestInit) => {
    const url = new URL(input);
    return new Promise<Response>((resolve, reject) => {
      const abort = () => reject(new DOMException('aborted', 'AbortError'));
      if (init?.signal?.aborted) abort(); // as fetch does
      init?.signal?.addEventListener('abort', abort);
      waiting.push({
        q: url.searchParams.get('q') ?? '',
        cursor: url.searchParams.get('cursor'),
        signal: init?.signal ?? undefined,
        answer: (page) => resolve(new Response(JSON.stringify(page), { status: 200, headers: { 'content-type': 'application/json' } })),
      });
    });
  };
  return { fetch, waiting };
}

describe('SearchStore', () => {
  it('shows the first page with its total, appends more pages once each, and dedupes hits', async () => {
    const pages: Record<string, SearchPage> = {
      '': { items: [hit(9), hit(8)], total: { count: 1000, exact: false }, next_cursor: 'p2' },
      p2: { items: [hit(8), hit(7)], total: { count: 1000, exact: false }, next_cursor: 'p3' },
      p3: { items: [hit(6)], total: { count: 1000, exact: false }, next_cursor: null },
    };
    const { client, fetch } = await connected((c) => (c.path === '/v1/search/messages' ? { body: pages[c.query.get('cursor') ?? ''] } : undefined));
    const store = new SearchStore(client, { pageSize: 2 });
    await store.search({ q: 'message', sort: 'newest' });
    let s = store.getSnapshot();
    expect(hitSeqs(s.hits)).toEqual([9, 8]);
    expect(s).toMatchObject({ total: { count: 1000, exact: false }, hasMore: true, loading: false, params: { q: 'message', sort: 'newest' } });

    await Promise.all([store.loadMore(), store.loadMore()]); // the second call joins the first
    expect(fetch.calls.filter((c) => c.query.get('cursor') === 'p2')).toHaveLength(1);
    expect(hitSeqs(store.getSnapshot().hits)).toEqual([9, 8, 7]);
    await store.loadMore();
    s = store.getSnapshot();
    expect(hitSeqs(s.hits)).toEqual([9, 8, 7, 6]);
    expect(s.hasMore).toBe(false);
    await store.loadMore(); // nothing more: no request
    expect(fetch.calls).toHaveLength(3);
    expect(fetch.calls.every((c) => c.query.get('limit') === '2' && c.query.get('sort') === 'newest')).toBe(true);
    store.dispose();
  });

  it('a new search replaces the one on its way: its request is aborted and its answer never shown', async () => {
    const { fetch, waiting } = heldSearches();
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, WebSocket: FakeSocket });
    const store = new SearchStore(client);
    const first = store.search({ q: 'pl' });
    const second = store.search({ q: 'plan' });
    await flush();
    expect(waiting.map((w) => w.q)).toEqual(['pl', 'plan']);
    expect(waiting[0].signal?.aborted).toBe(true);
    waiting[1].answer({ items: [hit(2, 'plan')], total: { count: 1, exact: true }, next_cursor: null });
    await Promise.all([first, second]);
    const s = store.getSnapshot();
    expect(s.params?.q).toBe('plan');
    expect(hitSeqs(s.hits)).toEqual([2]);
    expect(s.error).toBeUndefined();
    expect(s.loading).toBe(false);
    store.clear();
    expect(store.getSnapshot()).toMatchObject({ params: undefined, hits: [], total: undefined });
    store.dispose();
  });

  it('keeps the server’s error for a bad query, and the next search clears it', async () => {
    const { client } = await connected((c) =>
      c.query.get('q') === '-word'
        ? { status: 400, body: { error: { code: 'invalid_request', message: 'a query needs a word to find', details: { parameter: 'q' } } } }
        : { body: { items: [hit(1)], total: { count: 1, exact: true }, next_cursor: null } },
    );
    const store = new SearchStore(client);
    await store.search({ q: '-word' });
    expect(store.getSnapshot().error).toMatchObject({ status: 400, message: 'a query needs a word to find', details: { parameter: 'q' } });
    expect(store.getSnapshot().loading).toBe(false);
    await store.search({ q: 'word' });
    expect(store.getSnapshot().error).toBeUndefined();
    expect(hitSeqs(store.getSnapshot().hits)).toEqual([1]);
    store.dispose();
  });

  it('follows edits and deletions of the messages it shows', async () => {
    const { client, ws } = await connected(() => ({ body: { items: [hit(1), hit(2)], total: { count: 2, exact: true }, next_cursor: null } }));
    const store = new SearchStore(client);
    await store.search({ q: 'message' });
    const edited = message(CH, 1, 'bob', { text: 'message one, edited', edited_at: '2026-01-01T01:00:00.000Z' });
    ws.push({ type: 'event', event: 'message.updated', channel_id: CH, seq: 1, data: { message: edited } });
    ws.push({ type: 'event', event: 'message.deleted', channel_id: CH, seq: 2, data: { message: message(CH, 2, 'bob', { text: '', deleted_at: '2026-01-01T01:00:00.000Z' }) } });
    ws.push({ type: 'event', event: 'message.deleted', channel_id: 'ch_other', seq: 1, data: { message: message('ch_other', 1) } });
    const s = store.getSnapshot();
    expect(hitSeqs(s.hits)).toEqual([1]);
    expect(s.hits[0].message.text).toBe('message one, edited');
    expect(s.hits[0].snippet.text).toBe('message 1');
    store.dispose();
  });
});

describe('MessageListStore.loadAround', () => {
  const channelOf = (n: number) => Array.from({ length: n }, (_, i) => message(CH, i + 1));

  it('pages back, staying live, when the message is at most two pages older than the oldest held', async () => {
    const all = channelOf(30);
    const { client } = await connected(history(all));
    const store = new MessageListStore(client, CH, { pageSize: 5 });
    await store.loadLatest();
    await store.loadAround(18);
    const s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    expect(s.hasMoreAfter).toBe(false);
    expect(store.isContiguous()).toBe(true);
    await store.loadAround(20); // held: no request, nothing changes
    expect(store.getSnapshot()).toBe(s);
    store.dispose();
  });

  it('far back, shows a window around the message; new messages wait; loadNewer pages to the present and goes live again', async () => {
    const all = channelOf(40);
    const { client, ws } = await connected(history(all));
    const store = new MessageListStore(client, CH, { pageSize: 6 });
    await store.loadLatest();
    await store.loadAround(4);
    let s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s).toMatchObject({ hasMoreBefore: false, hasMoreAfter: true, loaded: true, loading: false });

    // A new message while looking at the window: not appended (no hole, no fill of 30 messages).
    const live = message(CH, 41, 'bob', { text: 'live one' });
    all.push(live);
    ws.push(newEvent(CH, live));
    // An edit of a held message applies at once.
    ws.push({ type: 'event', event: 'message.updated', channel_id: CH, seq: 3, data: { message: { ...all[2], text: 'three, edited' } } });
    await flush();
    s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(s.messages[2].text).toBe('three, edited');

    while (store.getSnapshot().hasMoreAfter) await store.loadNewer();
    s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual(seqs(all));
    expect(store.isContiguous()).toBe(true);

    // Live again: the next message is appended.
    const next = message(CH, 42);
    all.push(next);
    ws.push(newEvent(CH, next));
    await vi.waitFor(() => expect(seqs(store.getSnapshot().messages).at(-1)).toBe(42));
    store.dispose();
  });

  it('loadLatest jumps back from a window; sending from one jumps back too and shows the message once', async () => {
    const all = channelOf(40);
    const route = history(all);
    const { client, ws } = await connected((c) => {
      if (c.method === 'POST' && c.path.endsWith('/messages')) {
        const m = message(CH, all.length + 1, 'alice', { text: (c.body as { text: string }).text, client_msg_id: (c.body as { client_msg_id: string }).client_msg_id });
        all.push(m);
        return { status: 201, body: { message: m, duplicate: false } };
      }
      return route(c);
    });
    const store = new MessageListStore(client, CH, { pageSize: 6 });
    await store.loadLatest();
    await store.loadAround(10);
    expect(store.getSnapshot().hasMoreAfter).toBe(true);
    await store.loadLatest();
    let s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual([35, 36, 37, 38, 39, 40]);
    expect(s).toMatchObject({ hasMoreAfter: false, hasMoreBefore: true });

    await store.loadAround(12);
    const sent = await store.send('from the past');
    ws.push(newEvent(CH, sent));
    await vi.waitFor(() => {
      s = store.getSnapshot();
      expect(s.hasMoreAfter).toBe(false);
      expect(s.messages.filter((m) => m.text === 'from the past')).toHaveLength(1);
      expect(s.pending).toEqual([]);
    });
    expect(seqs(s.messages).slice(-2)).toEqual([40, 41]);
    expect(store.isContiguous()).toBe(true);
    store.dispose();
  });

  it('is a first load too: a window when opened at an old message, live when the window reaches the newest', async () => {
    const all: Message[] = channelOf(40);
    const { client, fetch } = await connected(history(all));
    const store = new MessageListStore(client, CH, { pageSize: 10 });
    await store.loadAround(37);
    const s = store.getSnapshot();
    expect(seqs(s.messages)).toEqual([32, 33, 34, 35, 36, 37, 38, 39, 40]);
    expect(s).toMatchObject({ loaded: true, hasMoreAfter: false, hasMoreBefore: true });
    expect(fetch.calls.map((c) => Object.fromEntries(c.query))).toEqual([
      { before_seq: '38', limit: '6' },
      { after_seq: '37', limit: '5' },
    ]);
    store.dispose();
  });
});
