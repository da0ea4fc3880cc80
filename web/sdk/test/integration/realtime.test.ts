import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ParleyClient } from '../../src/client.js';
import type { AnyParleyEvent } from '../../src/events.js';
import { ChannelListStore } from '../../src/stores/channels.js';
import { MemberListStore } from '../../src/stores/members.js';
import { MessageListStore } from '../../src/stores/messages.js';
import { PresenceStore } from '../../src/stores/presence.js';
import { TypingStore } from '../../src/stores/typing.js';
import { ParleyProcess, general, signIn, waitFor } from './setup.js';

let server: ParleyProcess;
const clients: ParleyClient[] = [];

async function user(name: string, opts: Parameters<typeof signIn>[2] = {}): Promise<ParleyClient> {
  const c = await signIn(server, name, opts);
  clients.push(c);
  return c;
}

function record(c: ParleyClient): AnyParleyEvent[] {
  const seen: AnyParleyEvent[] = [];
  c.realtime.on('event', (e) => seen.push(e));
  return seen;
}

const texts = (s: MessageListStore) => s.getSnapshot().messages.map((m) => m.text);

beforeAll(async () => {
  // A small replay limit makes resume.too_far easy to reach.
  server = await ParleyProcess.start({ args: ['--resume-max-messages', '5', '--presence-grace-ms', '200', '--typing-ttl-ms', '1000'] });
});
afterEach(() => {
  clients.splice(0).forEach((c) => c.close());
});
afterAll(async () => {
  await server?.dispose();
});

describe('realtime against the real server (Node, ws package)', () => {
  it('delivers typed events between users and answers socket commands', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    await Promise.all([alice.connect(), bob.connect()]);
    const ch = await general(alice);
    const seen = record(alice);

    const sent = await bob.realtime.sendMessage(ch, { text: 'over the socket', client_msg_id: 'sock-1' });
    expect(sent.duplicate).toBe(false);
    const edited = await bob.editMessage(ch, sent.message.seq, { text: 'edited' });
    await bob.addReaction(ch, sent.message.seq, '🎉');
    await bob.sendMessage(ch, { text: 'reply', parent_seq: sent.message.seq });
    const read = await alice.realtime.markRead(ch);
    expect(read.unread_count).toBe(0);

    await waitFor(() => seen.some((e) => e.event === 'read.updated'), 5000, 'read.updated');
    const mine = seen.filter((e) => e.channel_id === ch).map((e) => e.event);
    expect(mine).toEqual(expect.arrayContaining(['message.new', 'message.updated', 'reaction.added', 'thread.reply', 'read.updated']));
    const updated = seen.find((e) => e.event === 'message.updated');
    expect(updated?.event === 'message.updated' && updated.data.message.edited_at).toBe(edited.edited_at);
    await expect(alice.realtime.command('no.such.command')).rejects.toMatchObject({ code: 'invalid_request' });
    expect((await alice.realtime.ping()).type).toBe('pong');
  });

  it('keeps stores current: unread badges, typing, presence and seen-by', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const channels = new ChannelListStore(alice);
    await channels.load();
    await Promise.all([alice.connect(), bob.connect()]);
    const ch = await general(alice);
    await alice.markRead(ch);
    await waitFor(() => channels.get(ch)?.unread_count === 0, 5000, 'read');

    await bob.sendMessage(ch, { text: 'one' });
    await bob.sendMessage(ch, { text: 'two @alice' });
    await waitFor(() => channels.get(ch)?.unread_count === 2, 5000, 'two unread');
    expect(channels.get(ch)?.unread_mentions).toBe(1);
    expect(channels.getSnapshot().channels[0].id).toBe(ch);
    await channels.markRead(ch);
    await waitFor(() => channels.get(ch)?.unread_count === 0, 5000, 'read again');

    const dm = await bob.ensureDm('alice');
    await bob.sendMessage(dm.channel.id, { text: 'psst' });
    await waitFor(() => channels.get(dm.channel.id)?.unread_count === 1, 5000, 'the new DM with one unread');

    const typing = new TypingStore(alice);
    bob.realtime.startTyping(ch);
    await waitFor(() => typing.getSnapshot().typing[ch]?.includes('bob'), 5000, 'bob typing');
    bob.realtime.stopTyping(ch);
    await waitFor(() => typing.getSnapshot().typing[ch]?.length === 0, 5000, 'bob stopped');

    const presence = new PresenceStore(alice);
    const carol = await user('carol');
    await presence.watch(['bob', 'carol']);
    expect(presence.isOnline('bob')).toBe(true);
    expect(presence.isOnline('carol')).toBe(false);
    await carol.connect();
    await waitFor(() => presence.isOnline('carol'), 5000, 'carol online');
    carol.close();
    await waitFor(() => !presence.isOnline('carol'), 5000, 'carol offline');

    const members = new MemberListStore(alice, ch);
    await members.load();
    const mineMsg = (await alice.sendMessage(ch, { text: 'did you see this?' })).message;
    expect(members.seenBy(mineMsg)).toEqual([]);
    await bob.realtime.markRead(ch);
    await waitFor(() => members.seenBy(mineMsg).includes('bob'), 5000, 'seen by bob');
    expect(await alice.seenBy(ch, mineMsg.seq)).toContain('bob');
    [channels, typing, presence, members].forEach((s) => s.dispose());
  });

  it('after the server restarts, reconnects and resumes: every message exactly once, in order', async () => {
    const alice = await user('alice', { reconnect: { initialDelayMs: 1000, maxDelayMs: 2000, jitter: 0 } });
    const bob = await user('bob');
    const ch = await general(alice);
    const list = new MessageListStore(alice, ch, { pageSize: 20 });
    await alice.connect();
    await list.loadLatest();
    await bob.sendMessage(ch, { text: 'before restart' });
    await waitFor(() => texts(list).includes('before restart'), 5000, 'live message');

    const states: string[] = [];
    alice.realtime.on('state', (s) => states.push(s));
    const resumed = new Promise<void>((r) => alice.realtime.on('resumed', ({ reconnected }) => reconnected && r()));
    await server.restart();
    // Alice waits 1 s before her first retry: these are sent while she is disconnected.
    const missed = ['missed 1', 'missed 2', 'missed 3'];
    for (const text of missed) await bob.sendMessage(ch, { text });
    expect(alice.realtime.state).not.toBe('open');
    await resumed;
    await bob.sendMessage(ch, { text: 'after resume' });
    await waitFor(() => texts(list).includes('after resume'), 10_000, 'all messages');

    const all = texts(list);
    for (const t of ['before restart', ...missed, 'after resume']) expect(all.filter((x) => x === t)).toHaveLength(1);
    expect(all.slice(-5)).toEqual(['before restart', ...missed, 'after resume']);
    expect(list.isContiguous()).toBe(true);
    expect(states).toContain('reconnecting');
    list.dispose();
  });

  it('resumes after being removed from a channel while away', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const ch = (await bob.createChannel({ type: 'group', name: 'leaving', members: ['alice'] })).id;
    await alice.connect();
    await bob.sendMessage(ch, { text: 'hi' });
    await waitFor(() => alice.realtime.lastSeq(ch) === 1, 5000, 'the message');
    alice.realtime.disconnect();
    await bob.removeMember(ch, 'alice');
    const errors: string[] = [];
    alice.realtime.on('error', (e) => errors.push(e.code));
    await alice.connect();
    expect(alice.realtime.lastSeq(ch)).toBeUndefined();
    expect(errors).toEqual(['not_found']);
    expect((await alice.realtime.ping()).type).toBe('pong');
  });

  it('pages over REST after resume.too_far, holding live events, and fills gaps in the message list', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const ch = (await alice.createChannel({ type: 'group', name: 'far', members: ['bob'] })).id;
    const list = new MessageListStore(alice, ch);
    await alice.connect();
    await list.loadLatest();
    await bob.sendMessage(ch, { text: 'm0' });
    await waitFor(() => texts(list).length === 1, 5000, 'first message');

    alice.realtime.disconnect();
    for (let i = 1; i <= 12; i++) await bob.sendMessage(ch, { text: `m${i}` });
    const tooFar: number[] = [];
    alice.realtime.on('resume.too_far', (f) => tooFar.push(f.from_seq));
    await alice.connect();
    await waitFor(() => texts(list).length === 13, 10_000, '13 messages');
    expect(tooFar).toHaveLength(1);
    expect(texts(list)).toEqual(Array.from({ length: 13 }, (_, i) => `m${i}`));

    // Without a resume point the next live message jumps over the ones sent meanwhile: the
    // list fetches the missing range.
    alice.realtime.disconnect();
    alice.realtime.forget(ch);
    await bob.sendMessage(ch, { text: 'm13' });
    await bob.sendMessage(ch, { text: 'm14' });
    await alice.connect();
    await bob.sendMessage(ch, { text: 'm15' });
    await waitFor(() => texts(list).length === 16, 10_000, '16 messages');
    expect(texts(list)).toEqual(Array.from({ length: 16 }, (_, i) => `m${i}`));
    expect(list.isContiguous()).toBe(true);
    list.dispose();
  });
});

describe('token refresh on a live socket', () => {
  let shortLived: ParleyProcess;
  beforeAll(async () => {
    shortLived = await ParleyProcess.start({ args: ['--access-token-ttl', '10'] });
  });
  afterAll(async () => {
    await shortLived?.dispose();
  });

  it('sends an auth frame before expiry (the socket stays open) and retries REST after token_expired', async () => {
    const [alice, stale] = await Promise.all([signIn(shortLived, 'alice'), signIn(shortLived, 'bob')]);
    clients.push(alice, stale);
    const closes: number[] = [];
    alice.realtime.on('disconnected', (d) => closes.push(d.code));
    await alice.connect();
    const first = alice.tokens.current;
    const expiry = alice.tokens.expiresAt()!;
    await waitFor(() => alice.tokens.current !== first, 15_000, 'a refreshed token');
    await waitFor(() => Date.now() > expiry + 1500, 15_000, 'the first token to expire');
    expect((await alice.realtime.ping()).type).toBe('pong');
    expect(closes).toEqual([]);

    // Pretend the local clock runs far behind: the client believes its token is fresh, the
    // server answers token_expired, the tokenProvider is asked and the call retried.
    stale.tokens.clockSkewMs = -60_000;
    await waitFor(() => Date.now() > stale.tokens.expiresAt()! + 1000, 15_000, 'bob’s token to expire');
    const before = stale.tokens.current;
    expect((await stale.me()).id).toBe('bob');
    expect(stale.tokens.current).not.toBe(before);
  });
});
