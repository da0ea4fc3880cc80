import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../src/client.js';
import { ParleyError } from '../../src/errors.js';
import { snippetSegments } from '../../src/search.js';
import { MessageListStore } from '../../src/stores/messages.js';
import { SearchStore } from '../../src/stores/search.js';
import type { Channel, Message, SearchHit, SearchParams } from '../../src/types.js';
import { ParleyProcess, general, signIn, waitFor } from './setup.js';

let server: ParleyProcess;
let alice: ParleyClient;
let bob: ParleyClient;
let carol: ParleyClient;
let project: Channel; // alice and bob
let generalId: string;
let lounge: Channel; // public, carol's: alice is not a member
const sent: Record<string, Message> = {};

const texts = (hits: SearchHit[]) => hits.map((h) => h.message.text);
const search = (client: ParleyClient, params: SearchParams) => client.searchMessages(params);

async function say(client: ParleyClient, channelId: string, key: string, text: string, extra: { parent_seq?: number; mentions?: string[] } = {}) {
  sent[key] = (await client.sendMessage(channelId, { text, ...extra })).message;
  return sent[key];
}

// The setup sends a long history as one user: more than the per-user rate limit allows a client.
const FAST = ['--rate-limit-user-per-sec', '10000', '--rate-limit-user-burst', '10000'];

beforeAll(async () => {
  server = await ParleyProcess.start({ args: FAST });
  [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => signIn(server, u)));
  generalId = await general(alice);
  project = await alice.createChannel({ type: 'group', name: 'Quokka project', topic: 'wombat logistics', members: ['bob'] });
  lounge = await carol.createChannel({ type: 'public', name: 'Quokka lounge', topic: 'open to all' });

  await say(alice, project.id, 'plan', 'The quokka migration plan is ready');
  await say(bob, project.id, 'link', 'quokka pictures at https://example.org/quokka', { mentions: ['alice'] });
  await say(bob, project.id, 'phrase', 'a happy quokka never sleeps');
  await say(alice, project.id, 'reply', 'quokka reply in the thread', { parent_seq: sent.plan.seq });
  await say(alice, project.id, 'emoji', '🎉 quokkas 🎉 party for @bob', { mentions: ['bob'] });
  await say(carol, generalId, 'general', 'general quokka news');
  await say(carol, lounge.id, 'lounge', 'quokka lounge opens today');
  await alice.pinMessage(project.id, sent.phrase.seq);
  await alice.saveMessage(project.id, sent.link.seq);
  // Indexing may trail the send: wait until the last one is found.
  await waitFor(async () => (await search(carol, { q: 'lounge opens' })).items.length === 1, 10_000, 'the index to catch up');
});

afterAll(async () => {
  for (const c of [alice, bob, carol]) c?.close();
  await server?.dispose();
});

describe('message search against the real server', () => {
  it('finds words in the caller’s channels, with channel, snippet highlights (UTF-16) and an exact total', async () => {
    const page = await search(alice, { q: 'quokka' });
    expect(page.total).toEqual({ count: 6, exact: true });
    expect(page.next_cursor).toBeNull();
    expect(texts(page.items).sort()).toEqual(
      [sent.plan, sent.link, sent.phrase, sent.reply, sent.emoji, sent.general].map((m) => m.text).sort(),
    );
    expect(texts(page.items)).not.toContain(sent.lounge.text); // public, not joined
    for (const hit of page.items) {
      expect(hit.channel.id).toBe(hit.message.channel_id);
      expect(typeof hit.score).toBe('number');
      expect(hit.snippet.highlights.length).toBeGreaterThan(0);
      for (const h of hit.snippet.highlights) expect(hit.snippet.text.slice(h.start, h.end).toLowerCase()).toMatch(/^quokka/);
    }
    const inProject = page.items.find((h) => h.message.seq === sent.plan.seq && h.channel.id === project.id)!;
    expect(inProject.channel).toEqual({ id: project.id, type: 'group', name: 'Quokka project' });
    expect(inProject.message).toMatchObject({ text: sent.plan.text, user_id: 'alice', seq: sent.plan.seq });

    const emoji = page.items.find((h) => h.message.seq === sent.emoji.seq)!;
    // "quokka" is the last word, so a prefix: it finds "quokkas", after a two-unit emoji.
    const marked = snippetSegments(emoji.snippet).filter((s) => s.match).map((s) => s.text.toLowerCase());
    expect(marked).toHaveLength(1);
    expect(marked[0]).toMatch(/^quokka/);
  });

  it('matches the last word as a prefix unless the query ends with a space; word* forces a prefix', async () => {
    expect((await search(alice, { q: 'migra' })).items.map((h) => h.message.seq)).toEqual([sent.plan.seq]);
    expect((await search(alice, { q: 'migra ' })).items).toEqual([]);
    expect((await search(alice, { q: 'migra* plan' })).items.map((h) => h.message.seq)).toEqual([sent.plan.seq]);
  });

  it('takes exact phrases and exclusions', async () => {
    expect(texts((await search(alice, { q: '"happy quokka"' })).items)).toEqual([sent.phrase.text]);
    expect(texts((await search(alice, { q: '"quokka happy"' })).items)).toEqual([]);
    const page = await search(alice, { q: 'quokka -pictures -"migration plan"' });
    expect(texts(page.items)).not.toContain(sent.link.text);
    expect(texts(page.items)).not.toContain(sent.plan.text);
    expect(texts(page.items)).toContain(sent.phrase.text);
  });

  it('filters by channel, author, links, threads, mentions, pins, saved and time, and sorts newest first', async () => {
    const seqsOf = async (p: Omit<SearchParams, 'q'>) => (await search(alice, { q: 'quokka', ...p })).items.map((h) => `${h.channel.id}:${h.message.seq}`).sort();
    const key = (m: Message) => `${m.channel_id}:${m.seq}`;
    expect(await seqsOf({ channel_id: [generalId] })).toEqual([key(sent.general)]);
    expect(await seqsOf({ channel_id: [generalId, project.id], from: ['carol'] })).toEqual([key(sent.general)]);
    expect(await seqsOf({ from: 'bob' })).toEqual([sent.link, sent.phrase].map(key).sort());
    expect(await seqsOf({ has: ['link'] })).toEqual([key(sent.link)]);
    expect(await seqsOf({ in_thread: true })).toEqual([key(sent.reply)]);
    expect(await seqsOf({ in_thread: false })).not.toContain(key(sent.reply));
    expect(await seqsOf({ mentions_me: true })).toEqual([key(sent.link)]);
    expect(await seqsOf({ pinned: true })).toEqual([key(sent.phrase)]);
    expect(await seqsOf({ saved: true })).toEqual([key(sent.link)]);
    expect(await seqsOf({ after: new Date(Date.now() + 60_000) })).toEqual([]);
    expect(await seqsOf({ before: new Date(Date.now() + 60_000), channel_id: generalId })).toEqual([key(sent.general)]);
    expect(await seqsOf({ before: sent.plan.created_at })).toEqual([]);

    // Newest first in a channel (across channels the server orders by when it indexed them).
    const newest = (await search(alice, { q: 'quokka', sort: 'newest', channel_id: project.id })).items.map((h) => h.message.seq);
    expect(newest).toEqual([sent.emoji, sent.reply, sent.phrase, sent.link, sent.plan].map((m) => m.seq));
  });

  it('searches unjoined public channels only with include_public, and never others’ private channels', async () => {
    expect(texts((await search(alice, { q: 'lounge' })).items)).toEqual([]);
    const page = await search(alice, { q: 'lounge', include_public: true });
    expect(texts(page.items)).toEqual([sent.lounge.text]);
    expect(page.items[0].channel).toEqual({ id: lounge.id, type: 'public', name: 'Quokka lounge' });
    // Carol is in general and the lounge, not in the project group.
    const carols = texts((await search(carol, { q: 'quokka', include_public: true })).items);
    expect(carols.sort()).toEqual([sent.general.text, sent.lounge.text].sort());
  });

  it('pages with the cursor; SearchStore gathers every hit once', async () => {
    const first = await search(alice, { q: 'quokka', limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.total).toEqual({ count: 6, exact: true });
    expect(first.next_cursor).toBeTruthy();
    const second = await search(alice, { q: 'quokka', limit: 2, cursor: first.next_cursor! });
    expect(second.items).toHaveLength(2);
    const ids = (p: typeof first) => p.items.map((h) => `${h.channel.id}:${h.message.seq}`);
    expect(ids(second).some((id) => ids(first).includes(id))).toBe(false);

    const store = new SearchStore(alice, { pageSize: 4 });
    await store.search({ q: 'quokka', sort: 'newest' });
    expect(store.getSnapshot().hasMore).toBe(true);
    while (store.getSnapshot().hasMore) await store.loadMore();
    const s = store.getSnapshot();
    expect(s.error).toBeUndefined();
    expect(s.hits).toHaveLength(6);
    expect(new Set(s.hits.map((h) => `${h.channel.id}:${h.message.seq}`)).size).toBe(6);
    store.dispose();
  });

  it('answers 400 invalid_request naming the bad parameter', async () => {
    const bad = async (p: SearchParams) => (await search(alice, p).catch((e: unknown) => e)) as ParleyError;
    const onlyExcluded = await bad({ q: '-quokka' });
    expect(onlyExcluded).toBeInstanceOf(ParleyError);
    expect(onlyExcluded).toMatchObject({ status: 400, code: 'invalid_request', details: { parameter: 'q' } });
    expect(onlyExcluded.message).toBeTruthy();
    expect(await bad({ q: '' })).toMatchObject({ status: 400, details: { parameter: 'q' } });
    expect(await bad({ q: 'x'.repeat(1001) })).toMatchObject({ status: 400, details: { parameter: 'q' } });
    expect(await bad({ q: 'quokka', limit: 51 })).toMatchObject({ status: 400, details: { parameter: 'limit' } });
    expect(await bad({ q: 'quokka', sort: 'oldest' as never })).toMatchObject({ status: 400, details: { parameter: 'sort' } });
    expect(await bad({ q: 'quokka', after: 'yesterday' })).toMatchObject({ status: 400, details: { parameter: 'after' } });
    expect(await bad({ q: 'quokka', has: ['video' as never] })).toMatchObject({ status: 400, details: { parameter: 'has' } });
  });

  it('finds channels by name and topic prefixes, mine apart from public ones to join', async () => {
    const r = await alice.searchChannels('quok');
    expect(r.mine.map((c) => c.id)).toEqual([project.id]);
    expect(r.public.map((c) => c.id)).toEqual([lounge.id]);
    expect((await alice.searchChannels('wombat')).mine.map((c) => c.id)).toEqual([project.id]);
    const carols = await carol.searchChannels('quokka');
    expect(carols.mine.map((c) => c.id)).toEqual([lounge.id]);
    expect(carols.public).toEqual([]); // the group is not public: never listed to non-members
    expect((await alice.searchChannels('quok', { limit: 1 })).mine).toHaveLength(1);
  });

  it('suggests users, channels and recent queries; clearRecentSearches forgets them', async () => {
    const s = await alice.searchSuggest('b');
    expect(s.users.map((u) => u.id)).toContain('bob');
    expect((await alice.searchSuggest('quokka')).channels.map((c) => c.id)).toEqual([project.id]); // not the lounge: not hers

    await bob.searchMessages({ q: 'zebra crossing' });
    await bob.searchMessages({ q: 'zebra stripes' });
    await bob.searchMessages({ q: 'zebra secret', remember: false });
    const recent = (await bob.searchSuggest('zeb')).recent.map((r) => r.query);
    expect(recent).toEqual(['zebra stripes', 'zebra crossing']);
    expect((await bob.searchSuggest('')).recent.length).toBeGreaterThanOrEqual(2);
    expect((await alice.searchSuggest('zeb')).recent).toEqual([]); // each user’s own
    await bob.clearRecentSearches();
    expect((await bob.searchSuggest('')).recent).toEqual([]);
  });

  it('MessageListStore.loadAround opens a long channel at an old message and pages back to the present', async () => {
    const long = await alice.createChannel({ type: 'group', name: 'Long one' });
    for (let i = 1; i <= 70; i++) await alice.sendMessage(long.id, { text: `line ${i}` });
    await alice.connect();
    const store = new MessageListStore(alice, long.id, { pageSize: 10 });
    await store.loadAround(5);
    let s = store.getSnapshot();
    expect(s.messages.map((m) => m.text)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 1}`));
    expect(s).toMatchObject({ hasMoreBefore: false, hasMoreAfter: true });
    while (store.getSnapshot().hasMoreAfter) await store.loadNewer();
    s = store.getSnapshot();
    expect(s.messages).toHaveLength(70);
    expect(store.isContiguous()).toBe(true);
    await alice.sendMessage(long.id, { text: 'line 71' });
    await waitFor(() => store.getSnapshot().messages.at(-1)?.text === 'line 71', 10_000, 'the live message');
    store.dispose();
  });
});
