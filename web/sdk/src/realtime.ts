import { Emitter } from './emitter.js';
import { ParleyError } from './errors.js';
import type {
  AnyParleyEvent,
  EventName,
  HelloFrame,
  ParleyEvent,
  PongFrame,
  PresenceWatchAck,
  ReadMarkAck,
  ResumeAck,
  ResumeTooFarFrame,
  WatchAck,
} from './events.js';
import type { TokenManager } from './tokens.js';
import type { MessagePage, MessageQuery, SendMessageRequest, SendMessageResult } from './types.js';

/**
 * `idle`: never connected. `connecting`: first attempt under way (or waiting to retry it).
 * `open`: connected, resumed. `reconnecting`: lost after being open; waiting or retrying.
 * `closed`: stopped by `disconnect()` or for good (forbidden, authentication refused).
 */
export type ConnectionState = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

/** The part of the WebSocket API the client uses (browsers' WebSocket and the `ws` package fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor: `globalThis.WebSocket` in browsers, `WebSocket` from `ws` in Node. */
export type WebSocketCtor = new (url: string) => unknown;

export interface ReconnectOptions {
  /** First retry delay (default 500 ms); doubles (`factor`) per failed attempt up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  factor?: number;
  /** Fraction of each delay that is random (0..1, default 0.5): delay × (1 − jitter × random). */
  jitter?: number;
}

export interface RealtimeOptions {
  /** `ws(s)://host:port/v1/ws`. */
  url: string;
  tokens: TokenManager;
  WebSocket: WebSocketCtor;
  /** Used to page what a resume could not replay (`resume.too_far`). */
  rest: { listMessages(channelId: string, query: MessageQuery): Promise<MessagePage> };
  reconnect?: ReconnectOptions;
  /** Time limit for a command's ack (default 15 s). */
  commandTimeoutMs?: number;
  /** Send an `auth` frame with a fresh token this long before the current one expires (default 60 s). */
  refreshBeforeExpiryMs?: number;
  /** Interval of the liveness check (default: half the server's heartbeat, at most 25 s). */
  pingIntervalMs?: number;
  random?: () => number;
}

export type RealtimeEventMap = { [E in EventName]: ParleyEvent<E> } & {
  /** Every server event, in arrival order. */
  event: AnyParleyEvent;
  state: ConnectionState;
  hello: HelloFrame;
  /** A connection is caught up: resumed (including REST paging after `resume.too_far`), or fresh. */
  resumed: { channels: Record<string, number>; reconnected: boolean };
  'resume.too_far': ResumeTooFarFrame;
  /** Each socket close, before any reconnect. */
  disconnected: { code: number; reason: string };
  /** Problems that do not stop the connection (a failed refresh, a failed paging, a stray error frame). */
  error: ParleyError;
};

interface Pending {
  resolve(data: unknown): void;
  reject(err: ParleyError): void;
  timer: ReturnType<typeof setTimeout>;
}

const WS_OPEN = 1;
const MAX_RESUME_CHANNELS = 500;
const MAX_PRESENCE_WATCH = 200;

/**
 * One realtime connection per docs/protocol.md that stays connected: reconnects with
 * exponential backoff and jitter, resumes every tracked channel from its last seq (pages over
 * REST after `resume.too_far`), re-watches presence and channels, and refreshes its token with
 * an `auth` frame before it expires. Not thread-aware: use from one event loop.
 */
export class Realtime {
  private readonly emitter = new Emitter<RealtimeEventMap>();
  private readonly WS: WebSocketCtor;
  private ws: WebSocketLike | undefined;
  /** Identifies the current socket; handlers of older sockets see a different value and return. */
  private gen = 0;
  private _state: ConnectionState = 'idle';
  private stopped = true;
  private everOpened = false;
  private attempt = 0;
  private forceRefresh = false;
  private lastError: ParleyError | undefined;
  private hello: HelloFrame | undefined;
  private lastFrameAt = 0;
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  /** Ids of `resume` commands not yet answered (their per-channel errors are not fatal). */
  private readonly resumeIds = new Set<string>();
  private readonly seqs = new Map<string, number>();
  /** Per socket: events of channels whose `resume.too_far` paging is under way. */
  private held = new Map<string, AnyParleyEvent[]>();
  private pagings: Promise<void>[] = [];
  private readonly presenceWatch = new Set<string>();
  private readonly watchedChannels = new Set<string>();
  private readonly typingSentAt = new Map<string, number>();
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private readonly removeOnline: () => void;

  constructor(private readonly opts: RealtimeOptions) {
    this.WS = opts.WebSocket;
    opts.tokens.onChange((token) => this.onTokenChange(token));
    const g = globalThis as { addEventListener?: (t: string, l: () => void) => void; removeEventListener?: (t: string, l: () => void) => void };
    const online = () => {
      if (!this.stopped && this._state !== 'open') this.reconnectNow();
    };
    g.addEventListener?.('online', online);
    this.removeOnline = () => g.removeEventListener?.('online', online);
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The current connection's `hello` (user id, connection id, heartbeat). */
  get helloFrame(): HelloFrame | undefined {
    return this.hello;
  }

  on<K extends keyof RealtimeEventMap>(name: K, listener: (payload: RealtimeEventMap[K]) => void): () => void {
    return this.emitter.on(name, listener);
  }

  /**
   * Starts (or keeps) the connection. Resolves when it is open — after retries if need be;
   * rejects only when the connection stops for good (disconnect, forbidden, refused token).
   */
  connect(): Promise<void> {
    this.stopped = false;
    if (this._state === 'open') return Promise.resolve();
    const opened = new Promise<void>((resolve, reject) => {
      const off = this.on('state', (s) => {
        if (s === 'open') {
          off();
          resolve();
        } else if (s === 'closed') {
          off();
          reject(this.lastError ?? new ParleyError({ status: 0, code: 'closed', message: 'disconnected' }));
        }
      });
    });
    if (this._state === 'idle' || this._state === 'closed') void this.open();
    return opened;
  }

  /** Closes the connection and stops reconnecting. `connect()` starts again. */
  disconnect(): void {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const ws = this.ws;
    this.ws = undefined;
    this.gen++;
    this.teardown(new ParleyError({ status: 0, code: 'closed', message: 'disconnected by the client' }));
    ws?.close(1000, 'client disconnect');
    this.lastError = undefined;
    this.setState('closed');
  }

  /** Ends listening to the browser's `online` events too; the object is done. */
  dispose(): void {
    this.disconnect();
    this.removeOnline();
  }

  /** Skips the remaining backoff delay (e.g. when the network comes back). */
  reconnectNow(): void {
    if (this.stopped) return;
    if (this.ws && this.ws.readyState === WS_OPEN && this._state === 'open') return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    if (!this.ws) void this.open();
  }

  // ---- resume points ----------------------------------------------------------------------

  /** Records that everything up to `seq` of the channel is known (kept as the maximum). */
  trackSeq(channelId: string, seq: number): void {
    const cur = this.seqs.get(channelId);
    if (cur === undefined || seq > cur) this.seqs.set(channelId, seq);
  }

  lastSeq(channelId: string): number | undefined {
    return this.seqs.get(channelId);
  }

  /** Stops resuming a channel (left, removed, deleted). */
  forget(channelId: string): void {
    this.seqs.delete(channelId);
    this.watchedChannels.delete(channelId);
  }

  // ---- commands ---------------------------------------------------------------------------

  /** Sends a command and resolves with its ack `data`; rejects with the error frame as ParleyError. */
  command<T = unknown>(type: string, fields: Record<string, unknown> = {}, timeoutMs?: number): Promise<T> {
    if (this._state !== 'open' || !this.ws) {
      return Promise.reject(new ParleyError({ status: 0, code: 'closed', message: `cannot send ${type}: not connected` }));
    }
    return this.rawCommand<T>(this.ws, type, fields, timeoutMs);
  }

  /** Sends over the socket; the ack comes once the message is durable and carries its seq. */
  sendMessage(channelId: string, req: SendMessageRequest): Promise<SendMessageResult> {
    return this.command<SendMessageResult>('message.send', { channel_id: channelId, ...req });
  }

  markRead(channelId: string, seq?: number): Promise<ReadMarkAck> {
    return this.command<ReadMarkAck>('read.mark', seq === undefined ? { channel_id: channelId } : { channel_id: channelId, seq });
  }

  /** Tells the channel the user is typing; call on every keystroke (sent at most every 3 s). */
  startTyping(channelId: string): void {
    const now = Date.now();
    if (now - (this.typingSentAt.get(channelId) ?? 0) < 3000) return;
    this.typingSentAt.set(channelId, now);
    this.command('typing.start', { channel_id: channelId }).catch(() => this.typingSentAt.delete(channelId));
  }

  /** Ends typing (sent only when a `typing.start` went out). */
  stopTyping(channelId: string): void {
    if (!this.typingSentAt.delete(channelId)) return;
    this.command('typing.stop', { channel_id: channelId }).catch(() => undefined);
  }

  /** Hears a public channel's events without joining; kept across reconnects. */
  async watchChannel(channelId: string): Promise<WatchAck> {
    this.watchedChannels.add(channelId);
    const ack = await this.command<WatchAck>('channel.watch', { channel_id: channelId });
    this.trackSeq(channelId, ack.last_seq);
    return ack;
  }

  async unwatchChannel(channelId: string): Promise<void> {
    this.watchedChannels.delete(channelId);
    await this.command('channel.unwatch', { channel_id: channelId });
  }

  /**
   * Subscribes to `presence.changed` for these users (kept across reconnects) and answers their
   * current presence. Ids already watched are not sent again.
   */
  async watchPresence(userIds: string[]): Promise<PresenceWatchAck> {
    const fresh = [...new Set(userIds)].filter((id) => !this.presenceWatch.has(id));
    fresh.forEach((id) => this.presenceWatch.add(id));
    if (this._state !== 'open' || fresh.length === 0) return { presence: [] };
    return this.sendPresenceWatch(fresh);
  }

  /** Stops re-watching these users after reconnects (the protocol has no unwatch command). */
  unwatchPresence(userIds: string[]): void {
    userIds.forEach((id) => this.presenceWatch.delete(id));
  }

  ping(): Promise<PongFrame> {
    return this.command<PongFrame>('ping');
  }

  // ---- connection lifecycle ---------------------------------------------------------------

  private setState(s: ConnectionState): void {
    if (this._state === s) return;
    this._state = s;
    this.emitter.emit('state', s);
  }

  private async open(): Promise<void> {
    const gen = ++this.gen;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    const { tokens } = this.opts;
    let token: string;
    try {
      token =
        this.forceRefresh && tokens.canRefresh
          ? await tokens.refresh('rejected')
          : await tokens.get(10_000);
      this.forceRefresh = false;
    } catch (e) {
      if (gen !== this.gen || this.stopped) return;
      const err = toParleyError(e);
      this.emitter.emit('error', err);
      if (err.status === 401 || err.status === 403) return this.fail(err);
      return this.scheduleReconnect();
    }
    if (gen !== this.gen || this.stopped) return;

    const resume = this.seqs.size > 0;
    const sep = this.opts.url.includes('?') ? '&' : '?';
    const url = `${this.opts.url}${sep}token=${encodeURIComponent(token)}${resume ? '&resume=1' : ''}`;
    let ws: WebSocketLike;
    try {
      ws = new this.WS(url) as WebSocketLike;
    } catch (e) {
      this.emitter.emit('error', toParleyError(e));
      return this.scheduleReconnect();
    }
    this.ws = ws;
    this.held = new Map();
    this.pagings = [];
    this.lastFrameAt = Date.now();
    ws.onmessage = (ev) => {
      if (gen !== this.gen) return;
      this.lastFrameAt = Date.now();
      const text = typeof ev.data === 'string' ? ev.data : decode(ev.data);
      for (const line of text.split('\n')) {
        if (line.trim() !== '') this.onFrame(line, gen, resume);
      }
    };
    ws.onerror = (ev) => {
      // The `ws` package names the HTTP status of a refused upgrade; browsers tell nothing.
      const msg = (ev as { message?: unknown })?.message;
      if (typeof msg === 'string' && /\b401\b/.test(msg)) this.forceRefresh = true;
    };
    ws.onclose = (ev) => {
      if (gen !== this.gen) return;
      this.gen++;
      this.onClosed(ev.code, ev.reason);
    };
  }

  private onFrame(line: string, gen: number, resume: boolean): void {
    let f: { type?: unknown; [k: string]: unknown };
    try {
      f = JSON.parse(line);
    } catch {
      this.emitter.emit('error', new ParleyError({ status: 0, code: 'invalid_frame', message: 'a frame that is not JSON' }));
      return;
    }
    switch (f.type) {
      case 'event':
        return this.onEvent(f as unknown as AnyParleyEvent & { channel_id?: string });
      case 'ack':
        return this.settle(f.id as string, undefined, f.data ?? {});
      case 'pong':
        return this.settle(f.id as string, undefined, f);
      case 'error': {
        const err = ParleyError.fromBody(0, f);
        const channel = err.details.channel_id;
        if (typeof f.id === 'string' && this.resumeIds.has(f.id) && typeof channel === 'string') {
          // A channel the user can no longer read: the resume goes on without it (its ack follows).
          this.forget(channel);
          this.emitter.emit('error', err);
          return;
        }
        if (typeof f.id === 'string' && this.pending.has(f.id)) return this.settle(f.id, err);
        this.emitter.emit('error', err);
        return;
      }
      case 'hello':
        return this.onHello(f as unknown as HelloFrame, gen, resume);
      case 'resume.too_far':
        return this.onTooFar(f as unknown as ResumeTooFarFrame, gen);
    }
  }

  private onHello(hello: HelloFrame, gen: number, resume: boolean): void {
    this.hello = hello;
    const serverNow = Date.parse(hello.server_time);
    if (Number.isFinite(serverNow)) this.opts.tokens.clockSkewMs = serverNow - Date.now();
    this.emitter.emit('hello', hello);
    if (!resume) return void this.onResumed(gen, {});
    const ws = this.ws!;
    const entries = [...this.seqs.entries()];
    const chunks: Record<string, number>[] = [];
    for (let i = 0; i < entries.length; i += MAX_RESUME_CHANNELS) {
      chunks.push(Object.fromEntries(entries.slice(i, i + MAX_RESUME_CHANNELS)));
    }
    Promise.all(chunks.map((channels) => this.rawCommand<ResumeAck>(ws, 'resume', { channels }, undefined, this.resumeIds)))
      .then((acks) => this.onResumed(gen, Object.assign({}, ...acks.map((a) => a.channels))))
      .catch((e) => {
        if (gen !== this.gen) return;
        this.emitter.emit('error', toParleyError(e));
        this.abandon(4000, 'resume failed');
      });
  }

  private async onResumed(gen: number, channels: Record<string, number>): Promise<void> {
    if (gen !== this.gen) return;
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.attempt = 0;
    this.lastError = undefined;
    this.setState('open');
    this.startPing();
    this.scheduleRefresh();
    if (this.presenceWatch.size > 0) {
      this.sendPresenceWatch([...this.presenceWatch]).catch((e) => this.emitter.emit('error', toParleyError(e)));
    }
    for (const ch of this.watchedChannels) {
      this.command<WatchAck>('channel.watch', { channel_id: ch }).catch((e) => this.emitter.emit('error', toParleyError(e)));
    }
    // Pagings can start while the resume replays; they may add more while we wait.
    while (this.pagings.length > 0) {
      const batch = this.pagings;
      this.pagings = [];
      await Promise.all(batch);
    }
    if (gen !== this.gen) return;
    this.emitter.emit('resumed', { channels, reconnected });
  }

  private onEvent(ev: AnyParleyEvent): void {
    const normalized = { event: ev.event, channel_id: ev.channel_id, seq: ev.seq, replay: ev.replay, data: ev.data } as AnyParleyEvent;
    const queue = normalized.channel_id ? this.held.get(normalized.channel_id) : undefined;
    if (queue) queue.push(normalized);
    else this.deliver(normalized);
  }

  private deliver(ev: AnyParleyEvent): void {
    const me = this.hello?.user_id;
    if (ev.channel_id) {
      if (ev.event === 'message.new' && typeof ev.seq === 'number') this.trackSeq(ev.channel_id, ev.seq);
      if (ev.event === 'channel.deleted' || (ev.event === 'member.removed' && ev.data.user_id === me)) {
        this.forget(ev.channel_id);
      }
    }
    this.emitter.emit('event', ev);
    this.emitter.emit(ev.event, ev as never);
  }

  /** Pages `(from_seq, until_seq]` over REST, holding the channel's live events until done. */
  private onTooFar(f: ResumeTooFarFrame, gen: number): void {
    this.emitter.emit('resume.too_far', f);
    const held = this.held;
    const queue: AnyParleyEvent[] = [];
    held.set(f.channel_id, queue);
    const paging = (async () => {
      let after = f.from_seq;
      try {
        while (after < f.until_seq && gen === this.gen) {
          const page = await this.opts.rest.listMessages(f.channel_id, { after_seq: after, limit: 200 });
          if (gen !== this.gen) break;
          for (const m of page.items) {
            if (m.seq > f.until_seq) break;
            this.deliver({ event: 'message.new', channel_id: f.channel_id, seq: m.seq, replay: true, data: { message: m } });
            after = m.seq;
          }
          if (!page.has_more || page.items.length === 0) break;
        }
      } catch (e) {
        if (gen === this.gen) this.emitter.emit('error', toParleyError(e));
      }
      held.delete(f.channel_id);
      // A newer socket resumes from what was delivered; the held events are then replayed.
      if (gen === this.gen) queue.forEach((ev) => this.deliver(ev));
    })();
    this.pagings.push(paging);
  }

  private onClosed(code: number, reason: string): void {
    this.ws = undefined;
    this.teardown(new ParleyError({ status: 0, code: 'closed', message: `connection closed (${code})`, details: { code, reason } }));
    this.emitter.emit('disconnected', { code, reason });
    if (this.stopped) return this.setState('closed');
    if (code === 4003) {
      return this.fail(new ParleyError({ status: 403, code: 'forbidden', message: reason || 'the user was deactivated', details: { close_code: code } }));
    }
    if (code === 4001 || code === 4002) this.forceRefresh = true;
    this.scheduleReconnect();
  }

  /** Drops a socket that is deemed dead without waiting for its close handshake. */
  private abandon(code: number, reason: string): void {
    const ws = this.ws;
    if (!ws) return;
    this.gen++;
    try {
      ws.close(code, reason);
    } catch {
      // already closing
    }
    this.onClosed(code, reason);
  }

  private teardown(err: ParleyError): void {
    clearTimeout(this.refreshTimer);
    clearInterval(this.pingTimer);
    this.refreshTimer = undefined;
    this.pingTimer = undefined;
    this.typingSentAt.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
  }

  private fail(err: ParleyError): void {
    this.lastError = err;
    this.stopped = true;
    this.emitter.emit('error', err);
    this.setState('closed');
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const r = this.opts.reconnect ?? {};
    const initial = r.initialDelayMs ?? 500;
    const max = r.maxDelayMs ?? 30_000;
    const factor = r.factor ?? 2;
    const jitter = Math.min(1, Math.max(0, r.jitter ?? 0.5));
    const base = Math.min(max, initial * factor ** this.attempt);
    this.attempt++;
    const delay = Math.round(base * (1 - jitter * (this.opts.random ?? Math.random)()));
    this.setState(this.everOpened ? 'reconnecting' : 'connecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.open(), delay);
  }

  // ---- commands, liveness, token refresh ---------------------------------------------------

  /** Sends a command; its id is kept in `ids` (if given) until it is answered. */
  private rawCommand<T>(
    ws: WebSocketLike,
    type: string,
    fields: Record<string, unknown>,
    timeoutMs?: number,
    ids?: Set<string>,
  ): Promise<T> {
    const id = `c${this.nextId++}`;
    const limit = timeoutMs ?? this.opts.commandTimeoutMs ?? 15_000;
    ids?.add(id);
    const answered = new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ParleyError({ status: 0, code: 'timeout', message: `no answer to ${type} in ${limit} ms` }));
      }, limit);
      this.pending.set(id, { resolve: resolve as (d: unknown) => void, reject, timer });
      try {
        ws.send(JSON.stringify({ ...fields, type, id }));
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(toParleyError(e, 'closed'));
      }
    });
    return ids ? answered.finally(() => ids.delete(id)) : answered;
  }

  private settle(id: string | undefined, err: ParleyError | undefined, data?: unknown): void {
    if (typeof id !== 'string') return;
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(data);
  }

  private async sendPresenceWatch(ids: string[]): Promise<PresenceWatchAck> {
    const out: PresenceWatchAck = { presence: [] };
    for (let i = 0; i < ids.length; i += MAX_PRESENCE_WATCH) {
      const ack = await this.command<PresenceWatchAck>('presence.watch', { user_ids: ids.slice(i, i + MAX_PRESENCE_WATCH) });
      out.presence.push(...ack.presence);
    }
    return out;
  }

  private startPing(): void {
    clearInterval(this.pingTimer);
    const heartbeat = this.hello?.heartbeat_ms ?? 30_000;
    const every = this.opts.pingIntervalMs ?? Math.min(25_000, Math.max(1_000, heartbeat / 2));
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastFrameAt < every || this._state !== 'open') return;
      const gen = this.gen;
      this.ping().catch(() => {
        if (gen === this.gen && this._state === 'open') this.abandon(4000, 'no answer to ping');
      });
    }, every);
    unref(this.pingTimer);
  }

  private refreshLeadMs(): number {
    return this.opts.refreshBeforeExpiryMs ?? 60_000;
  }

  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    const { tokens } = this.opts;
    const remaining = tokens.remainingMs();
    if (!tokens.canRefresh || !Number.isFinite(remaining)) return;
    const lead = Math.min(this.refreshLeadMs(), Math.max(1_000, remaining * 0.2));
    this.refreshTimer = setTimeout(() => {
      // A new token reaches the socket through onTokenChange, which schedules the next refresh.
      tokens
        .get(lead + 1_000)
        .then(() => {
          if (this._state === 'open') this.scheduleRefresh();
        })
        .catch((e) => {
          this.emitter.emit('error', toParleyError(e));
          this.refreshTimer = setTimeout(() => this.scheduleRefresh(), 5_000);
        });
    }, Math.max(1_000, remaining - lead));
    unref(this.refreshTimer);
  }

  private onTokenChange(token: string): void {
    if (this._state !== 'open' || !this.ws) return;
    this.command('auth', { token })
      .then(() => this.scheduleRefresh())
      .catch((e) => this.emitter.emit('error', toParleyError(e)));
  }
}

function toParleyError(e: unknown, code = 'network_error'): ParleyError {
  if (e instanceof ParleyError) return e;
  return new ParleyError({ status: 0, code, message: e instanceof Error ? e.message : String(e), cause: e });
}

function decode(data: unknown): string {
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data as ArrayBuffer);
  return String(data);
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void })?.unref?.();
}
