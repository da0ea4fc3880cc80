import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnyParleyEvent } from '../../src/events.js';
import { Realtime, type RealtimeOptions } from '../../src/realtime.js';
import { TokenManager } from '../../src/tokens.js';
import type { MessagePage, MessageQuery } from '../../src/types.js';
import { FakeSocket, fakeJwt, flush, message, newEvent } from './fakes.js';

const CH = 'ch_a';

function setup(opts: Partial<RealtimeOptions> & { token?: string; provider?: () => Promise<string> } = {}) {
  const tokens = new TokenManager(opts.token ?? 'tok', opts.provider);
  const pages: MessageQuery[] = [];
  const rt = new Realtime({
    url: 'ws://parley.test/v1/ws',
    tokens,
    WebSocket: FakeSocket,
    rest: {
      listMessages: async (_id: string, q: MessageQuery): Promise<MessagePage> => {
        pages.push(q);
        return { items: [], has_more: false };
      },
    },
    random: () => 0.5,
    ...opts,
  });
  const events: AnyParleyEvent[] = [];
  rt.on('event', (e) => events.push(e));
  const states: string[] = [];
  rt.on('state', (s) => states.push(s));
  return { rt, tokens, events, states, pages };
}

beforeEach(() => {
  FakeSocket.reset();
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Realtime connection', () => {
  it('connects with the token in the query, without resume when nothing is tracked, and opens on hello', async () => {
    const { rt, states } = setup();
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    expect(ws.query.get('token')).toBe('tok');
    expect(ws.query.get('resume')).toBeNull();
    ws.accept();
    await opened;
    expect(rt.state).toBe('open');
    expect(states).toEqual(['connecting', 'open']);
    expect(rt.helloFrame?.user_id).toBe('alice');
    rt.dispose();
  });

  it('splits newline-batched frames, delivers typed events in order and tracks seqs', async () => {
    const { rt, events } = setup();
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    ws.accept();
    await opened;
    const typed: number[] = [];
    rt.on('message.new', (e) => typed.push(e.data.message.seq));
    ws.push(newEvent(CH, message(CH, 1)), newEvent(CH, message(CH, 2)), { type: 'event', event: 'typing.start', channel_id: CH, data: { user_id: 'bob' } });
    expect(events.map((e) => e.event)).toEqual(['message.new', 'message.new', 'typing.start']);
    expect(typed).toEqual([1, 2]);
    expect(rt.lastSeq(CH)).toBe(2);
    rt.dispose();
  });

  it('answers commands with their ack, rejects on error frames, on close and on timeout', async () => {
    const { rt } = setup({ commandTimeoutMs: 1000 });
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    ws.accept();
    await opened;

    const read = rt.markRead(CH, 3);
    expect(ws.sentOf('read.mark').at(-1)).toMatchObject({ channel_id: CH, seq: 3, id: expect.any(String) });
    ws.ack('read.mark', { channel_id: CH, last_read_seq: 3, unread_count: 0 });
    await expect(read).resolves.toEqual({ channel_id: CH, last_read_seq: 3, unread_count: 0 });

    const bad = rt.command('message.send', { channel_id: CH, text: '' });
    const id = ws.sentOf('message.send')[0].id;
    ws.push({ type: 'error', id, error: { code: 'validation_failed', message: 'empty', details: { field: 'text' } } });
    await expect(bad).rejects.toMatchObject({ code: 'validation_failed', details: { field: 'text' } });

    const slow = rt.ping();
    vi.advanceTimersByTime(1001);
    await expect(slow).rejects.toMatchObject({ code: 'timeout' });

    const cut = rt.ping();
    ws.drop(1006);
    await expect(cut).rejects.toMatchObject({ code: 'closed' });
    rt.dispose();
  });

  it('reconnects with exponential backoff and jitter, then resumes every tracked channel from its last seq', async () => {
    const { rt, states } = setup({ reconnect: { initialDelayMs: 100, maxDelayMs: 1000, factor: 2, jitter: 0.5 } });
    const resumed: boolean[] = [];
    rt.on('resumed', (r) => resumed.push(r.reconnected));
    const opened = rt.connect();
    await flush();
    FakeSocket.last().accept();
    await opened;
    FakeSocket.last().push(newEvent(CH, message(CH, 7)));
    rt.trackSeq('ch_b', 3);

    // Each failed attempt waits base × (1 − 0.5 × random) with random = 0.5: 75, 150, 300, 600, 750, 750 ms.
    const expected = [75, 150, 300, 600, 750, 750];
    FakeSocket.last().drop(1001, 'going away');
    for (const [i, delay] of expected.entries()) {
      const before = FakeSocket.all.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeSocket.all.length).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeSocket.all.length).toBe(before + 1);
      if (i < expected.length - 1) FakeSocket.last().drop(1006);
    }
    const ws = FakeSocket.last();
    expect(ws.query.get('resume')).toBe('1');
    ws.accept();
    expect(ws.sentOf('resume')[0].channels).toEqual({ [CH]: 7, ch_b: 3 });
    expect(rt.state).toBe('reconnecting');
    ws.push(newEvent(CH, message(CH, 8), true));
    ws.ack('resume', { channels: { [CH]: 8, ch_b: 3 } });
    await flush();
    expect(rt.state).toBe('open');
    expect(resumed).toEqual([false, true]);
    expect(states).toEqual(['connecting', 'open', 'reconnecting', 'open']);

    // Open again: the backoff starts over.
    ws.drop(1006);
    await vi.advanceTimersByTimeAsync(75);
    expect(FakeSocket.all.length).toBe(expected.length + 2);
    rt.dispose();
  });

  it('resumes without a channel the server no longer lets the user read', async () => {
    const { rt } = setup({ reconnect: { initialDelayMs: 10, jitter: 0 } });
    rt.trackSeq(CH, 4);
    rt.trackSeq('ch_gone', 9);
    const errors: string[] = [];
    rt.on('error', (e) => errors.push(`${e.code}:${String(e.details.channel_id)}`));
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    ws.accept();
    const id = ws.sentOf('resume')[0].id;
    ws.push(
      { type: 'error', id, error: { code: 'not_found', message: 'channel not found', details: { channel_id: 'ch_gone' } } },
      { type: 'ack', id, data: { channels: { [CH]: 4 } } },
    );
    await opened;
    expect(rt.state).toBe('open');
    expect(errors).toEqual(['not_found:ch_gone']);
    expect(rt.lastSeq('ch_gone')).toBeUndefined();
    expect(FakeSocket.all).toHaveLength(1);
    rt.dispose();
  });

  it('after resume.too_far pages the rest over REST and holds that channel’s live events until done', async () => {
    let releasePage!: () => void;
    const gate = new Promise<void>((r) => (releasePage = r));
    const queries: MessageQuery[] = [];
    const { rt, events } = setup({
      rest: {
        listMessages: async (_id, q) => {
          queries.push(q);
          await gate;
          const from = q.after_seq!;
          const items = [from + 1, from + 2, from + 3].filter((s) => s <= 9).map((s) => message(CH, s));
          return { items, has_more: from + 3 < 9 };
        },
      },
    });
    rt.trackSeq(CH, 1);
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    ws.accept();
    ws.push(newEvent(CH, message(CH, 2), true), newEvent(CH, message(CH, 3), true), {
      type: 'resume.too_far',
      channel_id: CH,
      from_seq: 3,
      until_seq: 9,
    });
    ws.ack('resume', { channels: { [CH]: 9 } });
    await opened;
    ws.push(newEvent(CH, message(CH, 10)), newEvent('ch_other', message('ch_other', 1)));
    expect(events.map((e) => `${e.channel_id}:${e.seq}`)).toEqual([`${CH}:2`, `${CH}:3`, 'ch_other:1']);
    const resumed = new Promise((r) => rt.on('resumed', r));
    releasePage();
    await resumed;
    expect(queries).toEqual([
      { after_seq: 3, limit: 200 },
      { after_seq: 6, limit: 200 },
    ]);
    expect(events.filter((e) => e.channel_id === CH).map((e) => e.seq)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.find((e) => e.seq === 5)?.replay).toBe(true);
    rt.dispose();
  });

  it('refreshes the token before reconnecting after 4002 (expired) and stops for good on 4003', async () => {
    let n = 0;
    const { rt } = setup({ provider: async () => `fresh${++n}`, reconnect: { initialDelayMs: 10, jitter: 0 } });
    const opened = rt.connect();
    await flush();
    FakeSocket.last().accept();
    await opened;
    FakeSocket.last().drop(4002, 'token expired');
    await vi.advanceTimersByTimeAsync(10);
    await flush();
    expect(FakeSocket.last().query.get('token')).toBe('fresh1');
    FakeSocket.last().accept();
    await flush();
    const errors: string[] = [];
    rt.on('error', (e) => errors.push(e.code));
    FakeSocket.last().drop(4003, 'deactivated');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rt.state).toBe('closed');
    expect(errors).toEqual(['forbidden']);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it('sends an auth frame with a fresh token before the current one expires', async () => {
    const now = Math.floor(Date.now() / 1000);
    let n = 0;
    const { rt } = setup({
      token: fakeJwt('alice', now + 100),
      provider: async () => fakeJwt('alice', now + 1000 + ++n),
      refreshBeforeExpiryMs: 10_000,
      pingIntervalMs: 3_600_000,
    });
    const opened = rt.connect();
    await flush();
    const ws = FakeSocket.last();
    ws.accept();
    await opened;
    await vi.advanceTimersByTimeAsync(89_000);
    expect(ws.sentOf('auth')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1_500);
    await flush();
    expect(ws.sentOf('auth')).toHaveLength(1);
    expect(ws.sentOf('auth')[0].token).toBe(fakeJwt('alice', now + 1001));
    ws.ack('auth', { user_id: 'alice', expires_at: new Date((now + 1001) * 1000).toISOString() });
    rt.dispose();
  });

  it('watches presence again after a reconnect and drops a connection that stops answering pings', async () => {
    const { rt } = setup({ pingIntervalMs: 1000, commandTimeoutMs: 500, reconnect: { initialDelayMs: 10, jitter: 0 } });
    const opened = rt.connect();
    await flush();
    FakeSocket.last().accept();
    await opened;
    const watch = rt.watchPresence(['bob', 'carol']);
    FakeSocket.last().ack('presence.watch', { presence: [{ user_id: 'bob', online: true }] });
    await expect(watch).resolves.toEqual({ presence: [{ user_id: 'bob', online: true }] });

    // Silent for a whole interval: a ping goes out; no pong within the command timeout: reconnect.
    await vi.advanceTimersByTimeAsync(2000);
    expect(FakeSocket.all[0].sentOf('ping').length).toBeGreaterThan(0);
    expect(FakeSocket.all[0].closedWith).toBe(4000);
    await vi.advanceTimersByTimeAsync(20);
    const ws2 = FakeSocket.last();
    expect(ws2).not.toBe(FakeSocket.all[0]);
    ws2.accept();
    await flush();
    expect(ws2.sentOf('presence.watch')[0].user_ids).toEqual(['bob', 'carol']);
    rt.dispose();
  });

  it('does not reconnect after disconnect()', async () => {
    const { rt } = setup({ reconnect: { initialDelayMs: 10 } });
    const opened = rt.connect();
    await flush();
    FakeSocket.last().accept();
    await opened;
    rt.disconnect();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.all).toHaveLength(1);
    expect(FakeSocket.all[0].closedWith).toBe(1000);
    expect(rt.state).toBe('closed');
  });
});
