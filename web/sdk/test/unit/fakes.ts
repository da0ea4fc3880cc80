// Test doubles for unit tests: a scripted WebSocket and a routed fetch. Integration tests use
// the real server instead.
import type { FetchLike } from '../../src/http.js';
import type { Message } from '../../src/types.js';

type Frame = Record<string, unknown>;

export class FakeSocket {
  static all: FakeSocket[] = [];
  static last(): FakeSocket {
    const s = FakeSocket.all[FakeSocket.all.length - 1];
    if (!s) throw new Error('no socket was opened');
    return s;
  }
  static reset(): void {
    FakeSocket.all = [];
  }

  readyState = 0;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly sent: Frame[] = [];
  closedWith: number | undefined;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data) as Frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.closedWith = code;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }

  // ---- the server's side ----

  accept(user = 'alice', extra: Frame = {}): void {
    this.readyState = 1;
    this.onopen?.({});
    this.push({
      type: 'hello',
      protocol: 1,
      connection_id: `conn_${FakeSocket.all.length}`,
      app_id: 'app_x',
      user_id: user,
      server_time: new Date().toISOString(),
      heartbeat_ms: 30000,
      resume_pending: this.query.get('resume') === '1',
      ...extra,
    });
  }

  /** Sends frames in one WebSocket message, newline-separated, as the server may. */
  push(...frames: Frame[]): void {
    this.onmessage?.({ data: frames.map((f) => JSON.stringify(f)).join('\n') });
  }

  drop(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  sentOf(type: string): Frame[] {
    return this.sent.filter((f) => f.type === type);
  }

  /** Acks the last command of a type with `data`. */
  ack(type: string, data: Frame = {}): void {
    const cmd = this.sentOf(type).at(-1);
    if (!cmd) throw new Error(`no ${type} command was sent`);
    this.push({ type: 'ack', id: cmd.id, data });
  }
}

export function message(channel: string, seq: number, user = 'bob', extra: Partial<Message> = {}): Message {
  return {
    channel_id: channel,
    seq,
    user_id: user,
    text: `message ${seq}`,
    attachments: [],
    parent_seq: null,
    client_msg_id: null,
    mentions: [],
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
    edited_at: null,
    deleted_at: null,
    reply_count: 0,
    last_reply_at: null,
    thread_participants: [],
    reactions: {},
    own_reactions: [],
    pinned: false,
    link_previews: [],
    ...extra,
  };
}

export function newEvent(channel: string, m: Message, replay = false): Frame {
  return { type: 'event', event: 'message.new', channel_id: channel, seq: m.seq, ...(replay ? { replay: true } : {}), data: { message: m } };
}

export interface Call {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body: unknown;
}

export type Route = (call: Call) => { status?: number; body?: unknown; headers?: Record<string, string> } | undefined;

/** A fetch that answers from `route` and records every call. */
export function fakeFetch(route: Route): FetchLike & { calls: Call[] } {
  const calls: Call[] = [];
  const f = (async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://parley.test');
    const call: Call = {
      method: init?.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: Object.fromEntries(Object.entries((init?.headers as Record<string, string>) ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    calls.push(call);
    const answer = route(call) ?? { status: 404, body: { error: { code: 'not_found', message: 'no route', details: {} } } };
    const status = answer.status ?? 200;
    return new Response(status === 204 ? null : JSON.stringify(answer.body ?? {}), {
      status,
      headers: { 'content-type': 'application/json', ...(answer.headers ?? {}) },
    });
  }) as FetchLike & { calls: Call[] };
  f.calls = calls;
  return f;
}

/** A JWT-shaped token (unsigned) with the given subject and expiry (seconds since the epoch). */
export function fakeJwt(sub: string, expSeconds: number, tag = ''): string {
  const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub, exp: expSeconds, tag })}.sig`;
}

/** Lets queued promise callbacks and microtasks run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise<void>((r) => queueMicrotask(r));
  await new Promise<void>((r) => setImmediate(r));
}

/** Serves a channel's history from `all`, like GET …/messages does. */
export function history(all: Message[]): Route {
  return (c) => {
    if (!c.path.endsWith('/messages')) return undefined;
    const after = c.query.get('after_seq');
    const before = c.query.get('before_seq');
    const limit = Number(c.query.get('limit') ?? 50);
    let items = all;
    if (after !== null) items = all.filter((m) => m.seq > Number(after)).slice(0, limit);
    else if (before !== null) items = all.filter((m) => m.seq < Number(before)).slice(-limit);
    else items = all.slice(-limit);
    const has_more = after !== null ? all.some((m) => m.seq > (items.at(-1)?.seq ?? Infinity)) : all.some((m) => m.seq < (items[0]?.seq ?? -Infinity));
    return { body: { items, has_more } };
  };
}
