import type { ParleyClient } from '../client.js';
import { ParleyError } from '../errors.js';
import type { AnyParleyEvent } from '../events.js';
import type { FileAttachmentRef, JsonObject, Message, SendMessageRequest } from '../types.js';
import { MessageCollection } from './collection.js';
import { Store } from './store.js';

/** A message being sent, shown until the server's copy (same `client_msg_id`) arrives. */
export interface PendingMessage {
  client_msg_id: string;
  text: string;
  parent_seq: number | null;
  mentions: string[];
  /** As sent: `{file_id}` for uploaded files. */
  attachments: (JsonObject | FileAttachmentRef)[];
  created_at: string;
  status: 'sending' | 'failed';
  error?: ParleyError;
}

export interface MessageListState {
  /** Ascending by seq, every seq at most once (thread replies included: filter on `parent_seq`). */
  messages: Message[];
  pending: PendingMessage[];
  loaded: boolean;
  loading: boolean;
  loadingOlder: boolean;
  /** Older history exists before the first message held. */
  hasMoreBefore: boolean;
  /**
   * Newer history exists after the last message held: the list shows a window around an older
   * message (`loadAround`), not the newest ones. `loadNewer()` pages towards the present,
   * `loadLatest()` jumps back to it. New messages are not added meanwhile.
   */
  hasMoreAfter: boolean;
  loadingNewer: boolean;
  error?: ParleyError;
}

export interface MessageListOptions {
  /** Page size for the newest page and for older pages (default 50, at most 200). */
  pageSize?: number;
}

/** Something that reached a detached window's channel past its newest message, kept for the jump back. */
interface Held {
  seq: number;
  apply: (col: MessageCollection) => void;
}

/** How many such changes a detached window keeps (the newest ones; REST pages bring the rest). */
const MAX_HELD = 500;

/**
 * The history of one channel as a UI shows it: the newest page first, older pages on demand
 * (`before_seq`), live events merged in, and gaps filled: when a seq arrives past the next
 * expected one, the missing range is fetched over REST. Never holds a seq twice; a sent
 * message replaces its pending copy. Call `dispose()` when done.
 *
 * `loadAround(seq)` shows an older message (a search hit, a link): near the oldest held it
 * pages back; further away it replaces the list with a window around it ("detached":
 * `hasMoreAfter`), which `loadNewer()` extends towards the newest messages until it reaches
 * them and follows live events again; `loadLatest()` jumps straight back.
 */
export class MessageListStore extends Store<MessageListState> {
  private col: MessageCollection;
  private readonly pageSize: number;
  private readonly off: () => void;
  /** Every seq from the oldest held up to this one is held (or known not to exist). */
  private verified = 0;
  private buffered: AnyParleyEvent[] = [];
  private filling: Promise<void> | undefined;
  private pendingById = new Map<string, PendingMessage>();
  private disposed = false;
  /** The list is a window of older history; changes past its newest message wait in `held`. */
  private detached = false;
  private held: Held[] = [];
  private older: Promise<void> | undefined;
  private newer: Promise<void> | undefined;

  constructor(
    private readonly client: ParleyClient,
    readonly channelId: string,
    opts: MessageListOptions = {},
  ) {
    super({
      messages: [],
      pending: [],
      loaded: false,
      loading: false,
      loadingOlder: false,
      hasMoreBefore: false,
      hasMoreAfter: false,
      loadingNewer: false,
    });
    this.pageSize = Math.min(200, opts.pageSize ?? 50);
    this.col = new MessageCollection(() => client.userId);
    const realtime = client.realtime;
    const offEvent = realtime.on('event', (ev) => {
      if (ev.channel_id === this.channelId) this.onEvent(ev);
    });
    // After a reconnect the resume replays what was missed; a fill covers any remaining hole.
    const offResumed = realtime.on('resumed', () => void this.fill());
    this.off = () => {
      offEvent();
      offResumed();
    };
  }

  dispose(): void {
    this.disposed = true;
    this.off();
  }

  /** Loads the newest page (again: merges it; from a detached window: replaces it). */
  async loadLatest(): Promise<void> {
    this.setState({ loading: true, error: undefined });
    try {
      const since = MessageCollection.stamp;
      const page = await this.client.listMessages(this.channelId, { limit: this.pageSize });
      if (this.disposed) return;
      const wasDetached = this.detached;
      const first = !this.state.loaded || wasDetached;
      if (wasDetached) {
        this.col = new MessageCollection(() => this.client.userId);
        this.older = undefined;
        this.newer = undefined;
      }
      this.col.upsert(page.items, false, since);
      if (wasDetached) this.reattach();
      const oldest = page.items[0]?.seq;
      const newest = page.items[page.items.length - 1]?.seq ?? 0;
      // A page is contiguous in itself: it extends what is verified when it starts at or before it.
      if (first) this.verified = newest;
      else if (oldest !== undefined && oldest <= this.verified + 1) this.verified = Math.max(this.verified, newest);
      this.advance();
      const buffered = this.buffered;
      this.buffered = [];
      buffered.forEach((ev) => this.col.apply(ev));
      this.advance();
      this.dropDelivered();
      this.setState({
        loaded: true,
        loading: false,
        messages: this.col.items,
        pending: [...this.pendingById.values()],
        hasMoreBefore: first ? page.has_more : this.state.hasMoreBefore,
        hasMoreAfter: false,
        loadingOlder: wasDetached ? false : this.state.loadingOlder,
        loadingNewer: false,
      });
      this.client.realtime.trackSeq(this.channelId, newest);
      await this.fill();
    } catch (e) {
      if (!this.disposed) this.setState({ loading: false, error: e as ParleyError });
      throw e;
    }
  }

  /** Loads the page before the oldest message held (infinite scroll up); one at a time. */
  loadOlder(): Promise<void> {
    if (this.older) return this.older;
    if (!this.state.loaded || !this.state.hasMoreBefore) return Promise.resolve();
    const before = this.col.oldestSeq;
    if (before === undefined) return Promise.resolve();
    const col = this.col;
    this.setState({ loadingOlder: true });
    const run = (async () => {
      try {
        const since = MessageCollection.stamp;
        const page = await this.client.listMessages(this.channelId, { before_seq: before, limit: this.pageSize });
        if (this.disposed || col !== this.col) return; // replaced meanwhile (a jump)
        this.col.upsert(page.items, false, since);
        this.setState({ loadingOlder: false, hasMoreBefore: page.has_more, messages: this.col.items });
      } catch (e) {
        if (!this.disposed && col === this.col) this.setState({ loadingOlder: false, error: e as ParleyError });
        throw e;
      }
    })().finally(() => {
      if (this.older === run) this.older = undefined;
    });
    this.older = run;
    return run;
  }

  /**
   * Makes `seq` one of the messages held, with history around it. Held already: nothing to do.
   * Up to two pages before the oldest held: older pages are loaded (the list stays attached to
   * the newest messages). Otherwise the list becomes a window of about a page around it
   * (`hasMoreAfter` unless the window reaches the newest message). Also a first load.
   * A seq that does not exist (deleted by retention, never sent) leaves its neighbours held.
   */
  async loadAround(seq: number): Promise<void> {
    if (this.state.loaded && this.col.has(seq)) return;
    const oldest = this.col.oldestSeq;
    if (this.state.loaded && !this.detached && oldest !== undefined && seq < oldest && oldest - seq <= 2 * this.pageSize) {
      while (!this.disposed && !this.col.has(seq) && this.state.hasMoreBefore && (this.col.oldestSeq ?? 0) > seq) {
        await this.loadOlder();
      }
      return;
    }
    this.setState({ loading: true, error: undefined });
    try {
      const half = Math.max(1, Math.floor(this.pageSize / 2));
      const since = MessageCollection.stamp;
      const [upTo, after] = await Promise.all([
        this.client.listMessages(this.channelId, { before_seq: seq + 1, limit: half + 1 }),
        this.client.listMessages(this.channelId, { after_seq: seq, limit: half }),
      ]);
      if (this.disposed) return;
      const windowItems = [...upTo.items, ...after.items];
      const newest = windowItems[windowItems.length - 1]?.seq ?? seq;
      const heldOldest = this.col.oldestSeq;
      if (this.state.loaded && !this.detached && heldOldest !== undefined && newest + 1 >= heldOldest) {
        // It meets what is held: one contiguous list, still attached.
        this.col.upsert(windowItems, false, since);
        this.setState({ loading: false, messages: this.col.items, hasMoreBefore: upTo.has_more });
        return;
      }
      const reachesEnd = !after.has_more;
      const wasAttached = !this.detached;
      this.col = new MessageCollection(() => this.client.userId);
      this.older = undefined;
      this.newer = undefined;
      this.col.upsert(windowItems, false, since);
      this.verified = newest;
      if (wasAttached) this.held = [];
      this.detached = true;
      // Events buffered before a first load: the held messages' changes apply, later ones wait.
      const buffered = this.buffered;
      this.buffered = [];
      buffered.forEach((ev) => this.onDetachedEvent(ev));
      if (reachesEnd) this.reattach();
      this.dropDelivered();
      this.setState({
        loaded: true,
        loading: false,
        loadingOlder: false,
        loadingNewer: false,
        messages: this.col.items,
        pending: [...this.pendingById.values()],
        hasMoreBefore: upTo.has_more,
        hasMoreAfter: !reachesEnd,
      });
      if (reachesEnd) {
        this.client.realtime.trackSeq(this.channelId, this.col.newestSeq ?? 0);
        await this.fill();
      }
    } catch (e) {
      if (!this.disposed) this.setState({ loading: false, error: e as ParleyError });
      throw e;
    }
  }

  /** In a detached window: loads the page after the newest message held; reaching the newest reattaches. */
  loadNewer(): Promise<void> {
    if (this.newer) return this.newer;
    if (!this.detached || !this.state.loaded) return Promise.resolve();
    const col = this.col;
    const after = col.newestSeq ?? 0;
    this.setState({ loadingNewer: true });
    const run = (async () => {
      try {
        const since = MessageCollection.stamp;
        const page = await this.client.listMessages(this.channelId, { after_seq: after, limit: this.pageSize });
        if (this.disposed || col !== this.col) return;
        this.col.upsert(page.items, false, since);
        this.verified = Math.max(this.verified, this.col.newestSeq ?? 0);
        if (!page.has_more) this.reattach();
        this.dropDelivered();
        this.setState({
          loadingNewer: false,
          hasMoreAfter: page.has_more,
          messages: this.col.items,
          pending: [...this.pendingById.values()],
        });
        if (!page.has_more) {
          this.client.realtime.trackSeq(this.channelId, this.col.newestSeq ?? 0);
          await this.fill();
        }
      } catch (e) {
        if (!this.disposed && col === this.col) this.setState({ loadingNewer: false, error: e as ParleyError });
        throw e;
      }
    })().finally(() => {
      if (this.newer === run) this.newer = undefined;
    });
    this.newer = run;
    return run;
  }

  /**
   * Sends over REST with a `client_msg_id` (so a retry never duplicates), showing a pending
   * copy meanwhile. Resolves with the stored message; a failure leaves the copy as `failed`.
   */
  async send(text: string, extra: Omit<SendMessageRequest, 'text' | 'client_msg_id'> = {}, clientMsgId = newClientMsgId()): Promise<Message> {
    const pending: PendingMessage = {
      client_msg_id: clientMsgId,
      text,
      parent_seq: extra.parent_seq ?? null,
      mentions: extra.mentions ?? [],
      attachments: extra.attachments ?? [],
      created_at: new Date().toISOString(),
      status: 'sending',
    };
    this.pendingById.set(clientMsgId, pending);
    this.publishPending();
    // A message is sent to the present: leave an old window for it.
    if (this.detached) void this.loadLatest().catch(() => undefined);
    try {
      const since = MessageCollection.stamp;
      const { message } = await this.client.sendMessage(this.channelId, { ...extra, text, client_msg_id: clientMsgId });
      this.receive([message], since);
      return message;
    } catch (e) {
      if (this.pendingById.has(clientMsgId)) {
        this.pendingById.set(clientMsgId, { ...pending, status: 'failed', error: e as ParleyError });
        this.publishPending();
      }
      throw e;
    }
  }

  /** Sends a failed message again (same client_msg_id). */
  retry(clientMsgId: string): Promise<Message> {
    const p = this.pendingById.get(clientMsgId);
    if (!p) return Promise.reject(new ParleyError({ status: 0, code: 'not_found', message: 'no such pending message' }));
    const extra = {
      ...(p.parent_seq !== null ? { parent_seq: p.parent_seq } : {}),
      ...(p.mentions.length ? { mentions: p.mentions } : {}),
      ...(p.attachments.length ? { attachments: p.attachments } : {}),
    };
    return this.send(p.text, extra, clientMsgId);
  }

  discard(clientMsgId: string): void {
    if (this.pendingById.delete(clientMsgId)) this.publishPending();
  }

  async edit(seq: number, text: string): Promise<void> {
    const since = MessageCollection.stamp;
    this.receive([await this.client.editMessage(this.channelId, seq, { text })], since);
  }

  async remove(seq: number): Promise<void> {
    await this.client.deleteMessage(this.channelId, seq);
  }

  async toggleReaction(seq: number, type: string): Promise<void> {
    const m = this.col.get(seq);
    const mine = m?.own_reactions.includes(type);
    const since = MessageCollection.stamp;
    const updated = mine
      ? await this.client.removeReaction(this.channelId, seq, type)
      : await this.client.addReaction(this.channelId, seq, type);
    this.receive([updated], since);
  }

  /** Every seq held from the oldest up to the newest (no gap). For tests and diagnostics. */
  isContiguous(): boolean {
    const items = this.col.items;
    return items.every((m, i) => i === 0 || m.seq === items[i - 1].seq + 1);
  }

  /**
   * Applies messages this client got from a REST call (e.g. an edit made elsewhere in the UI).
   * `since`: `MessageCollection.stamp` taken before the call; messages an event changed after it
   * are kept as the event left them (the answer may be older).
   */
  receive(messages: Message[], since?: number): void {
    if (this.detached) {
      const past = messages.filter((m) => m.seq > (this.col.newestSeq ?? 0));
      past.forEach((m) => this.hold({ seq: m.seq, apply: (col) => col.upsert([m], false, since) }));
      messages = messages.filter((m) => !past.includes(m));
    }
    if (this.col.upsert(messages, false, since)) {
      this.advance();
      this.setState({ messages: this.col.items });
    }
    if (this.dropDelivered()) this.publishPending();
    void this.fill();
  }

  // ---- internals ----------------------------------------------------------------------------

  private onEvent(ev: AnyParleyEvent): void {
    if (!this.state.loaded) {
      // Before the first page, only events that may postdate its answer matter.
      if (this.state.loading) this.buffered.push(ev);
      return;
    }
    if (this.detached) {
      if (this.onDetachedEvent(ev)) this.setState({ messages: this.col.items });
      return;
    }
    const changed = this.col.apply(ev);
    const delivered = ev.event === 'message.new' && this.dropDelivered();
    if (changed) {
      this.advance();
      this.setState({ messages: this.col.items });
    }
    if (delivered) this.publishPending();
    if (ev.event === 'message.new') void this.fill();
  }

  /** An event while detached: applied to a held message, kept for later past the window. */
  private onDetachedEvent(ev: AnyParleyEvent): boolean {
    const seq = eventSeq(ev);
    if (seq !== undefined && seq > (this.col.newestSeq ?? 0)) {
      this.hold({ seq, apply: (col) => col.apply(ev) });
      return false;
    }
    return this.col.apply(ev);
  }

  private hold(h: Held): void {
    this.held.push(h);
    if (this.held.length > MAX_HELD) this.held.splice(0, this.held.length - MAX_HELD);
  }

  /**
   * Ends a detached window (it reached the newest messages, or was replaced by them): applies
   * what waited, except changes of messages the REST pages brought (their copies are newer).
   */
  private reattach(): void {
    const held = this.held;
    this.held = [];
    this.detached = false;
    const brought = new Set(held.map((h) => h.seq).filter((s) => this.col.has(s)));
    for (const h of held) if (!brought.has(h.seq)) h.apply(this.col);
    this.advance();
  }

  /** Removes pending copies whose message is held. */
  private dropDelivered(): boolean {
    if (this.pendingById.size === 0) return false;
    let dropped = false;
    const held = new Set(this.col.items.map((m) => m.client_msg_id));
    for (const id of this.pendingById.keys()) {
      if (held.has(id)) {
        this.pendingById.delete(id);
        dropped = true;
      }
    }
    return dropped;
  }

  private publishPending(): void {
    this.setState({ pending: [...this.pendingById.values()] });
  }

  private advance(): void {
    while (this.col.has(this.verified + 1)) this.verified++;
  }

  /** Fetches every missing seq between the oldest held and the newest held; one fill at a time. */
  private fill(): Promise<void> {
    if (!this.state.loaded || this.disposed) return Promise.resolve();
    if (this.filling) return this.filling.then(() => this.fill());
    if ((this.col.newestSeq ?? 0) <= this.verified) return Promise.resolve();
    this.filling = (async () => {
      try {
        while (!this.disposed && (this.col.newestSeq ?? 0) > this.verified) {
          const upTo = this.col.newestSeq!;
          const since = MessageCollection.stamp;
          const page = await this.client.listMessages(this.channelId, {
            after_seq: this.verified,
            limit: Math.min(200, upTo - this.verified),
          });
          if (this.disposed) return;
          this.col.upsert(page.items, false, since);
          const last = page.items[page.items.length - 1]?.seq;
          if (last === undefined) {
            // Nothing exists there (e.g. removed by retention): step over the hole.
            const next = this.col.items.find((m) => m.seq > this.verified);
            this.verified = next ? next.seq : upTo;
          } else {
            this.verified = Math.max(this.verified, last);
          }
          this.advance();
          this.dropDelivered();
          this.setState({ messages: this.col.items, pending: [...this.pendingById.values()] });
        }
      } catch (e) {
        if (!this.disposed) this.setState({ error: e as ParleyError });
      } finally {
        this.filling = undefined;
      }
    })();
    return this.filling;
  }
}

/** The seq of the message an event is about (the parent's for a thread reply count). */
function eventSeq(ev: AnyParleyEvent): number | undefined {
  switch (ev.event) {
    case 'message.new':
    case 'message.updated':
    case 'message.deleted':
      return ev.data.message.seq;
    case 'reaction.added':
    case 'reaction.removed':
      return ev.data.seq;
    case 'thread.reply':
      return ev.data.parent_seq;
    default:
      return undefined;
  }
}

/**
 * A time-ordered client_msg_id in the UUIDv7 layout (RFC 9562): 48 bits of Unix milliseconds,
 * then random bits. Ids made later sort later, which makes the server's idempotency index
 * cheaper to write than random ids (see docs/api.md).
 */
export function newClientMsgId(now: number = Date.now()): string {
  const b = new Uint8Array(16);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint8Array) => Uint8Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  let ms = Math.max(0, Math.floor(now));
  for (let i = 5; i >= 0; i--) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
