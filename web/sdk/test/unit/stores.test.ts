import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyClient } from '../../src/client.js';
import { ChannelListStore } from '../../src/stores/channels.js';
import { MessageCollection } from '../../src/stores/collection.js';
import { MemberListStore } from '../../src/stores/members.js';
import { MessageListStore, newClientMsgId } from '../../src/stores/messages.js';
import { PresenceStore } from '../../src/stores/presence.js';
import { TypingStore } from '../../src/stores/typing.js';
import type { Channel, Message } from '../../src/types.js';
import { FakeSocket, fakeFetch, fakeJwt, flush, history, message, newEvent, type Route } from './fakes.js';

const CH = 'ch_a';
const token = fakeJwt('alice', Math.floor(Date.now() / 1000) + 3600);

function channel(id: string, extra: Partial<Channel> = {}): Channel {
  return {
    id,
    type: 'group',
    name: id,
    topic: '',
    image_url: '',
    custom: {},
    created_by: 'alice',
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    archived_at: null,
    last_seq: 0,
    last_message_at: null,
    member_count: 3,
    last_message: null,
    membership: { user_id: 'alice', role: 'member', joined_at: '', last_read_seq: 0, muted: false, starred: false, hidden: false },
    unread_count: 0,
    unread_mentions: 0,
    ...extra,
  };
}

async function connected(route: Route) {
  const fetch = fakeFetch(route);
  const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, WebSocket: FakeSocket });
  const opened = client.connect();
  await flush();
  const ws = FakeSocket.last();
  ws.accept('alice');
  if (ws.query.get('resume') === '1') ws.ack('resume', { channels: {} });
  await opened;
  return { client, fetch, ws };
}

beforeEach(() => FakeSocket.reset());
afterEach(() => vi.useRealTimers());

describe('MessageCollection', () => {
  it('keeps messages sorted by seq, each seq once, and keeps own reactions over event copies', () => {
    const col = new MessageCollection(() => 'alice');
    col.upsert([message(CH, 3), message(CH, 1)]);
    col.upsert([message(CH, 2), message(CH, 3)]);
    expect(col.items.map((m) => m.seq)).toEqual([1, 2, 3]);
    col.upsert([message(CH, 2, 'bob', { own_reactions: ['👍'], reactions: { '👍': 1 } })]);
    col.upsert([message(CH, 2, 'bob', { text: 'edited', reactions: { '👍': 1 } })], true);
    expect(col.get(2)).toMatchObject({ text: 'edited', own_reactions: ['👍'] });
    expect(
      col.apply({ event: 'reaction.removed', channel_id: CH, seq: 2, data: { seq: 2, type: '👍', user_id: 'alice', reactions: {} } }),
    ).toBe(true);
    expect(col.get(2)).toMatchObject({ own_reactions: [], reactions: {} });
    expect(col.apply({ event: 'thread.reply', channel_id: CH, seq: 1, data: { parent_seq: 1, reply_seq: 4, reply_count: 1, thread_participants: ['bob'] } })).toBe(true);
    expect(col.get(1)?.reply_count).toBe(1);
  });

  it('applies a message.updated that brings only link previews (same text, same edited_at), and the next ones', () => {
    const col = new MessageCollection(() => 'alice');
    const sent = message(CH, 1, 'bob', { text: 'see https://example.org/a' });
    col.upsert([sent]);
    const updated = (m: Message) => ({ event: 'message.updated', channel_id: CH, seq: m.seq, data: { message: m } }) as const;
    const a = { url: 'https://example.org/a', title: 'Page A', site_name: 'Example' };
    expect(col.apply(updated({ ...sent, link_previews: [a] }))).toBe(true);
    expect(col.get(1)?.link_previews).toEqual([a]);
    const held = col.items;
    expect(col.apply(updated({ ...sent, link_previews: [{ ...a }] }))).toBe(false); // nothing new
    expect(col.items).toBe(held);
    // An edit keeps the old preview until the new one is announced with the same edited_at.
    const edited = { ...sent, text: 'see https://example.org/b', edited_at: '2026-01-01T00:01:00.000Z', link_previews: [a] };
    expect(col.apply(updated(edited))).toBe(true);
    const b = { url: 'https://example.org/b', image_url: 'https://example.org/b.png' };
    expect(col.apply(updated({ ...edited, link_previews: [b] }))).toBe(true);
    expect(col.get(1)?.link_previews).toEqual([b]);
    expect(col.apply(updated({ ...edited, link_previews: [] }))).toBe(true);
    expect(col.get(1)?.link_previews).toEqual([]);
  });
});

describe('MessageListStore', () => {
  it('loads the newest page, pages older history, and fills a gap when a seq jumps', async () => {
    const all = Array.from({ length: 12 }, (_, i) => message(CH, i + 1));
    const served = all.slice(0, 8); // the server holds 1..8 when the page is read
    const { client, fetch, ws } = await connected((c) => history(served)(c));
    const store = new MessageListStore(client, CH, { pageSize: 5 });
    await store.loadLatest();
    expect(store.getSnapshot().messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(store.getSnapshot().hasMoreBefore).toBe(true);

    served.push(...all.slice(8)); // 9..12 are stored; only 12 reaches this client live
    ws.push(newEvent(CH, all[11]));
    await vi.waitFor(() => expect(store.getSnapshot().messages.map((m) => m.seq)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12]));
    expect(fetch.calls.some((c) => c.query.get('after_seq') === '8')).toBe(true);

    await store.loadOlder();
    expect(store.getSnapshot().messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(store.getSnapshot().hasMoreBefore).toBe(false);
    expect(store.isContiguous()).toBe(true);
    store.dispose();
  });

  it('never shows a message twice: replays, duplicates and the REST answer of a send merge by seq', async () => {
    const all = [message(CH, 1)];
    const { client, ws } = await connected((c) => {
      if (c.method === 'POST' && c.path.endsWith('/messages')) {
        const m = message(CH, 2, 'alice', { text: (c.body as { text: string }).text, client_msg_id: (c.body as { client_msg_id: string }).client_msg_id });
        all.push(m);
        // The event reaches the socket before the REST answer.
        ws.push(newEvent(CH, m));
        return { status: 201, body: { message: m, duplicate: false } };
      }
      return history(all)(c);
    });
    const store = new MessageListStore(client, CH);
    await store.loadLatest();
    const sending = store.send('hello');
    expect(store.getSnapshot().pending.map((p) => p.text)).toEqual(['hello']);
    await sending;
    ws.push(newEvent(CH, all[1], true), newEvent(CH, all[0], true));
    await flush();
    const s = store.getSnapshot();
    expect(s.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(s.pending).toEqual([]);
    store.dispose();
  });

  it('shows the link previews a message.updated brings after the message.new', async () => {
    const { client, ws } = await connected(history([]));
    const store = new MessageListStore(client, CH);
    await store.loadLatest();
    const m = message(CH, 1, 'bob', { text: 'look: https://example.org/' });
    ws.push(newEvent(CH, m));
    await vi.waitFor(() => expect(store.getSnapshot().messages).toHaveLength(1));
    expect(store.getSnapshot().messages[0].link_previews).toEqual([]);
    const preview = { url: 'https://example.org/', title: 'Example', description: 'An example page' };
    ws.push({ type: 'event', event: 'message.updated', channel_id: CH, seq: 1, data: { message: { ...m, link_previews: [preview] } } });
    await vi.waitFor(() => expect(store.getSnapshot().messages[0].link_previews).toEqual([preview]));
    store.dispose();
  });

  it('keeps what events brought when a REST answer they overtook arrives later (a send’s answer after its previews)', async () => {
    const preview = { url: 'https://example.org/', title: 'Example' };
    const all: Message[] = [];
    const { client, ws } = await connected((c) => {
      if (c.method === 'POST' && c.path.endsWith('/messages')) {
        const m = message(CH, 1, 'alice', { text: 'https://example.org/', client_msg_id: (c.body as { client_msg_id: string }).client_msg_id });
        all.push(m);
        // Both events reach the socket before the REST answer, which is the message as sent.
        ws.push(newEvent(CH, m), { type: 'event', event: 'message.updated', channel_id: CH, seq: 1, data: { message: { ...m, link_previews: [preview] } } });
        return { status: 201, body: { message: m, duplicate: false } };
      }
      return history(all)(c);
    });
    const store = new MessageListStore(client, CH);
    await store.loadLatest();
    const sent = await store.send('https://example.org/');
    expect(sent.link_previews).toEqual([]);
    expect(store.getSnapshot().messages.map((m) => m.link_previews)).toEqual([[preview]]);

    // A copy read before an event changed the message does not undo the event; one read after does apply.
    const before = MessageCollection.stamp;
    ws.push({ type: 'event', event: 'message.updated', channel_id: CH, seq: 1, data: { message: { ...all[0], text: 'edited', edited_at: '2026-01-01T00:02:00.000Z' } } });
    await vi.waitFor(() => expect(store.getSnapshot().messages[0].text).toBe('edited'));
    store.receive([all[0]], before);
    expect(store.getSnapshot().messages[0].text).toBe('edited');
    store.receive([{ ...all[0], text: 'edited again', edited_at: '2026-01-01T00:03:00.000Z' }], MessageCollection.stamp);
    expect(store.getSnapshot().messages[0].text).toBe('edited again');
    store.dispose();
  });

  it('marks a send that failed and retries it with the same client_msg_id', async () => {
    let fail = true;
    const ids: string[] = [];
    const { client } = await connected((c) => {
      if (c.method === 'POST' && c.path.endsWith('/messages')) {
        ids.push((c.body as { client_msg_id: string }).client_msg_id);
        if (fail) return { status: 503, body: { error: { code: 'unavailable', message: 'down', details: {} } } };
        return { status: 201, body: { message: message(CH, 1, 'alice', { client_msg_id: ids.at(-1)! }), duplicate: false } };
      }
      return history([])(c);
    });
    const store = new MessageListStore(client, CH);
    await store.loadLatest();
    await expect(store.send('hi')).rejects.toMatchObject({ code: 'unavailable' });
    const [p] = store.getSnapshot().pending;
    expect(p.status).toBe('failed');
    fail = false;
    await store.retry(p.client_msg_id);
    expect(ids[0]).toBe(ids[1]);
    expect(store.getSnapshot().pending).toEqual([]);
    expect(store.getSnapshot().messages).toHaveLength(1);
    store.dispose();
  });
});

describe('newClientMsgId', () => {
  it('makes UUIDv7-shaped ids that sort by the time they were made', () => {
    const a = newClientMsgId(1_700_000_000_000);
    const b = newClientMsgId(1_700_000_000_001);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.slice(0, 13)).toBe('018bcfe5-6800');
    expect(a < b).toBe(true);
    expect(newClientMsgId()).not.toBe(newClientMsgId());
  });
});

describe('ChannelListStore', () => {
  it('counts messages from others once each, not my own, not in muted channels, and follows read state', async () => {
    const muted = channel('ch_m', { membership: { ...channel('x').membership!, muted: true } });
    const { client, ws } = await connected((c) => {
      if (c.path === '/v1/channels') return { body: { items: [channel(CH, { last_seq: 2, unread_count: 1 }), muted], next_cursor: null } };
      return undefined;
    });
    const store = new ChannelListStore(client);
    await store.load();
    const unread = () => store.get(CH)?.unread_count;
    expect(unread()).toBe(1);

    ws.push(newEvent(CH, message(CH, 3)), newEvent(CH, message(CH, 3), true), newEvent(CH, message(CH, 2), true));
    expect(unread()).toBe(2);
    ws.push(newEvent(CH, message(CH, 4, 'carol', { mentions: ['alice'] })));
    expect(store.get(CH)).toMatchObject({ unread_count: 3, unread_mentions: 1, last_seq: 4 });
    ws.push(newEvent('ch_m', message('ch_m', 1)));
    expect(store.get('ch_m')?.unread_count).toBe(0);
    expect(store.getSnapshot().totalUnread).toBe(3);
    expect(store.getSnapshot().channels[0].id).toBe(CH); // most recent activity first

    ws.push({ type: 'event', event: 'read.updated', channel_id: CH, seq: 4, data: { user_id: 'alice', last_read_seq: 4 } });
    expect(store.get(CH)).toMatchObject({ unread_count: 0, unread_mentions: 0 });
    ws.push(newEvent(CH, message(CH, 5)));
    ws.push({ type: 'event', event: 'unread.changed', data: { unread_count: 7, unread_mentions: 0, channels_with_unread: 1, channel_id: CH, channel_unread_count: 7 } });
    expect(unread()).toBe(7);
    ws.push(newEvent(CH, message(CH, 6, 'alice')));
    expect(unread()).toBe(0);
    store.dispose();
  });

  it('adds channels it learns about and removes deleted ones', async () => {
    const { client, ws } = await connected((c) => {
      if (c.path === '/v1/channels') return { body: { items: [channel(CH)], next_cursor: null } };
      if (c.path === '/v1/channels/ch_new') return { body: { channel: channel('ch_new', { type: 'dm', last_seq: 1, unread_count: 1 }) } };
      return undefined;
    });
    const store = new ChannelListStore(client);
    await store.load();
    ws.push({ type: 'event', event: 'channel.created', channel_id: 'ch_new', data: { channel: channel('ch_new', { membership: null }) } });
    await vi.waitFor(() => expect(store.get('ch_new')?.unread_count).toBe(1));
    expect(client.realtime.lastSeq('ch_new')).toBe(1);
    ws.push({ type: 'event', event: 'channel.deleted', channel_id: CH, data: { channel_id: CH } });
    expect(store.getSnapshot().channels.map((c) => c.id)).toEqual(['ch_new']);
    store.dispose();
  });
});

describe('MemberListStore, TypingStore, PresenceStore', () => {
  it('answers "seen by" from read positions and moves them with read.updated', async () => {
    const m = (user_id: string, last_read_seq: number) => ({ ...channel('x').membership!, user_id, last_read_seq });
    const { client, ws } = await connected((c) =>
      c.path.endsWith('/members') ? { body: { items: [m('alice', 5), m('bob', 2), m('carol', 5)], next_cursor: null } } : undefined,
    );
    const store = new MemberListStore(client, CH);
    await store.load();
    const msg = { seq: 4, user_id: 'alice' };
    expect(store.seenBy(msg)).toEqual(['carol']);
    ws.push({ type: 'event', event: 'read.updated', channel_id: CH, seq: 4, data: { user_id: 'bob', last_read_seq: 4 } });
    expect(store.seenBy(msg)).toEqual(['bob', 'carol']);
    store.dispose();
  });

  it('shows who types until typing.stop, their message, or the time limit', async () => {
    const { client, ws } = await connected(() => undefined);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const store = new TypingStore(client, 7000);
    const typing = (user: string) => ({ type: 'event', event: 'typing.start', channel_id: CH, data: { user_id: user } });
    ws.push(typing('bob'), typing('carol'), typing('alice'));
    expect(store.getSnapshot().typing[CH]).toEqual(['bob', 'carol']);
    ws.push(newEvent(CH, message(CH, 1, 'bob')));
    expect(store.getSnapshot().typing[CH]).toEqual(['carol']);
    vi.advanceTimersByTime(7001);
    expect(store.getSnapshot().typing[CH]).toEqual([]);
    store.dispose();
  });

  it('reads presence over REST for users watched before the socket opened, and again once connected', async () => {
    let online = false;
    const fetch = fakeFetch((c) =>
      c.path === '/v1/presence' ? { body: { items: [{ user_id: 'alice', online, last_seen_at: null }] } } : undefined,
    );
    const client = new ParleyClient({ baseUrl: 'http://parley.test', token, fetch, WebSocket: FakeSocket });
    const store = new PresenceStore(client);
    await store.watch(['alice']);
    expect(store.getSnapshot().online).toEqual({ alice: false });
    const opened = client.connect();
    await flush();
    online = true; // alice's own connection is now open
    FakeSocket.last().accept('alice');
    await opened;
    await vi.waitFor(() => expect(store.isOnline('alice')).toBe(true));
    expect(FakeSocket.last().sentOf('presence.watch')[0].user_ids).toEqual(['alice']);
    store.dispose();
  });

  it('follows presence from the watch ack and presence.changed', async () => {
    const { client, ws } = await connected(() => undefined);
    const store = new PresenceStore(client);
    const watching = store.watch(['bob', 'carol']);
    ws.ack('presence.watch', { presence: [{ user_id: 'bob', online: true }, { user_id: 'carol', online: false }] });
    await watching;
    expect(store.getSnapshot().online).toEqual({ bob: true, carol: false });
    ws.push({ type: 'event', event: 'presence.changed', data: { user_id: 'carol', online: true } });
    expect(store.isOnline('carol')).toBe(true);
    store.dispose();
  });
});
