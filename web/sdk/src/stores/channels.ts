import type { ParleyClient } from '../client.js';
import type { ParleyError } from '../errors.js';
import type { AnyParleyEvent } from '../events.js';
import type { Channel, Message } from '../types.js';
import { Store } from './store.js';

export interface ChannelListState {
  /** My channels, most recent activity first. */
  channels: Channel[];
  /** Sum of `unread_count` over channels that are not muted. */
  totalUnread: number;
  loaded: boolean;
  loading: boolean;
  error?: ParleyError;
}

export interface ChannelListOptions {
  /** Upper bound on channels loaded (pages of 200; default 1000). */
  maxChannels?: number;
}

/**
 * My channels with unread counts, kept current from realtime events: a `message.new` from
 * someone else in an unmuted channel adds one (once per seq: replays and duplicates don't
 * count twice); `read.updated` (mine) and `unread.changed` set the count; channels I join,
 * leave or that change are added, removed and merged. After a reconnect the list is reloaded
 * from REST and merged (newer local state wins). Call `dispose()` when done.
 */
export class ChannelListStore extends Store<ChannelListState> {
  private byId = new Map<string, Channel>();
  private fetching = new Map<string, Promise<void>>();
  private readonly off: () => void;
  private readonly maxChannels: number;
  private disposed = false;

  constructor(
    private readonly client: ParleyClient,
    opts: ChannelListOptions = {},
  ) {
    super({ channels: [], totalUnread: 0, loaded: false, loading: false });
    this.maxChannels = opts.maxChannels ?? 1000;
    const rt = client.realtime;
    const offEvent = rt.on('event', (ev) => this.onEvent(ev));
    const offResumed = rt.on('resumed', ({ reconnected }) => {
      if (reconnected && this.state.loaded) this.load().catch(() => undefined);
    });
    this.off = () => {
      offEvent();
      offResumed();
    };
  }

  dispose(): void {
    this.disposed = true;
    this.off();
  }

  get(channelId: string): Channel | undefined {
    return this.byId.get(channelId);
  }

  /** Loads (or reloads and merges) every channel of mine. */
  async load(): Promise<void> {
    this.setState({ loading: true, error: undefined });
    try {
      const all: Channel[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.client.listChannels({ limit: 200, cursor });
        all.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor && all.length < this.maxChannels);
      if (this.disposed) return;
      const next = new Map<string, Channel>();
      for (const fresh of all) {
        const local = this.byId.get(fresh.id);
        // Events that arrived while the request was under way are newer than its answer.
        next.set(fresh.id, local && local.last_seq > fresh.last_seq ? { ...fresh, ...pickActivity(local) } : fresh);
        this.client.realtime.trackSeq(fresh.id, fresh.last_seq);
      }
      this.byId = next;
      this.publish({ loaded: true, loading: false });
    } catch (e) {
      if (!this.disposed) this.setState({ loading: false, error: e as ParleyError });
      throw e;
    }
  }

  /** Adds or replaces a channel (e.g. one just created or opened by this client). */
  upsert(channel: Channel): void {
    const local = this.byId.get(channel.id);
    this.byId.set(channel.id, local ? mergeChannel(local, channel) : channel);
    this.client.realtime.trackSeq(channel.id, channel.last_seq);
    this.publish();
  }

  /** Marks a channel read (REST) and zeroes its count at once. */
  async markRead(channelId: string, seq?: number): Promise<void> {
    const ch = this.byId.get(channelId);
    if (ch && (ch.unread_count ?? 0) > 0 && (seq === undefined || seq >= ch.last_seq)) {
      this.replace({ ...ch, unread_count: 0, unread_mentions: 0 });
    }
    const res = await this.client.markRead(channelId, seq);
    const now = this.byId.get(channelId);
    if (now?.membership) {
      this.replace({
        ...now,
        unread_count: res.unread_count,
        unread_mentions: res.unread_count === 0 ? 0 : now.unread_mentions,
        membership: { ...now.membership, last_read_seq: Math.max(now.membership.last_read_seq, res.last_read_seq) },
      });
    }
  }

  private replace(ch: Channel): void {
    this.byId.set(ch.id, ch);
    this.publish();
  }

  private publish(extra: Partial<ChannelListState> = {}): void {
    const channels = [...this.byId.values()].sort(byActivity);
    const totalUnread = channels.reduce((n, c) => n + (c.membership?.muted ? 0 : c.unread_count ?? 0), 0);
    this.setState({ ...extra, channels, totalUnread });
  }

  /** Fetches a channel this list does not hold yet (once at a time per id). */
  private fetchChannel(channelId: string): void {
    if (this.fetching.has(channelId) || this.disposed) return;
    const p = this.client
      .getChannel(channelId)
      .then((ch) => {
        if (!this.disposed && ch.membership) this.upsert(ch);
      })
      .catch(() => undefined)
      .finally(() => this.fetching.delete(channelId));
    this.fetching.set(channelId, p);
  }

  private onEvent(ev: AnyParleyEvent): void {
    const me = this.client.userId;
    const id = ev.channel_id;
    if (ev.event === 'unread.changed') {
      const ch = this.byId.get(ev.data.channel_id);
      if (ch) {
        const n = ev.data.channel_unread_count;
        this.replace({ ...ch, unread_count: n, unread_mentions: n === 0 ? 0 : ch.unread_mentions });
      }
      return;
    }
    if (!id) return;
    const ch = this.byId.get(id);
    switch (ev.event) {
      case 'message.new': {
        if (!ch) return this.fetchChannel(id);
        const m = ev.data.message;
        if (m.seq <= ch.last_seq) return; // already counted (replay or duplicate)
        const next: Channel = { ...ch, last_seq: m.seq, last_message: m, last_message_at: m.created_at };
        const membership = ch.membership;
        if (m.user_id === me) {
          // Sending marks the sender's channel read up to their own message.
          next.unread_count = 0;
          next.unread_mentions = 0;
          if (membership) next.membership = { ...membership, last_read_seq: m.seq };
        } else if (!membership?.muted && !m.deleted_at && m.seq > (membership?.last_read_seq ?? 0)) {
          next.unread_count = (ch.unread_count ?? 0) + 1;
          if (me && m.mentions.includes(me)) next.unread_mentions = (ch.unread_mentions ?? 0) + 1;
        }
        return this.replace(next);
      }
      case 'message.updated':
      case 'message.deleted': {
        if (!ch) return;
        const m = ev.data.message;
        let next = ch;
        if (ch.last_message?.seq === m.seq) next = { ...next, last_message: previewOf(m) };
        const unreadHere = m.seq > (ch.membership?.last_read_seq ?? 0) && m.user_id !== me;
        if (ev.event === 'message.deleted' && unreadHere && !ch.membership?.muted && (ch.unread_count ?? 0) > 0) {
          next = { ...next, unread_count: (ch.unread_count ?? 0) - 1 };
        }
        if (next !== ch) this.replace(next);
        return;
      }
      case 'read.updated': {
        if (!ch || ev.data.user_id !== me || !ch.membership) return;
        const last = Math.max(ch.membership.last_read_seq, ev.data.last_read_seq);
        const caughtUp = last >= ch.last_seq;
        return this.replace({
          ...ch,
          membership: { ...ch.membership, last_read_seq: last },
          unread_count: caughtUp ? 0 : Math.min(ch.unread_count ?? 0, ch.last_seq - last),
          unread_mentions: caughtUp ? 0 : ch.unread_mentions,
        });
      }
      case 'channel.created':
        if (!ch) this.fetchChannel(id);
        return;
      case 'channel.updated':
        if (ch) this.replace(mergeChannel(ch, ev.data.channel));
        return;
      case 'channel.deleted':
        if (this.byId.delete(id)) this.publish();
        return;
      case 'member.added':
        if (me && ev.data.user_ids.includes(me)) return this.fetchChannel(id);
        if (ch) this.replace({ ...ch, member_count: ch.member_count + ev.data.user_ids.length });
        return;
      case 'member.removed':
        if (ev.data.user_id === me) {
          if (this.byId.delete(id)) this.publish();
        } else if (ch) {
          this.replace({ ...ch, member_count: Math.max(0, ch.member_count - 1) });
        }
        return;
      case 'member.updated':
        if (ch && ev.data.member.user_id === me) this.replace({ ...ch, membership: ev.data.member });
        return;
    }
  }
}

function byActivity(a: Channel, b: Channel): number {
  const ta = a.last_message_at ?? a.created_at;
  const tb = b.last_message_at ?? b.created_at;
  return ta < tb ? 1 : ta > tb ? -1 : a.id.localeCompare(b.id);
}

function pickActivity(c: Channel): Partial<Channel> {
  return {
    last_seq: c.last_seq,
    last_message: c.last_message,
    last_message_at: c.last_message_at,
    unread_count: c.unread_count,
    unread_mentions: c.unread_mentions,
  };
}

/** Channel-level fields from an event copy; the caller's own fields stay. */
function mergeChannel(local: Channel, incoming: Channel): Channel {
  const newer = incoming.last_seq >= local.last_seq;
  const mine =
    newer && !!incoming.membership && incoming.unread_count !== undefined && incoming.membership.user_id === local.membership?.user_id;
  return {
    ...local,
    name: incoming.name,
    topic: incoming.topic,
    image_url: incoming.image_url,
    custom: incoming.custom,
    archived_at: incoming.archived_at,
    updated_at: incoming.updated_at,
    member_count: incoming.member_count,
    ...(incoming.dm_user_ids ? { dm_user_ids: incoming.dm_user_ids } : {}),
    ...(newer ? { last_seq: incoming.last_seq, last_message_at: incoming.last_message_at } : {}),
    ...(newer && incoming.last_message !== undefined ? { last_message: incoming.last_message } : {}),
    // Only the caller's own membership and counts replace the held ones.
    ...(mine ? { membership: incoming.membership, unread_count: incoming.unread_count, unread_mentions: incoming.unread_mentions } : {}),
  };
}

function previewOf(m: Message): Message {
  return m.text.length > 200 ? { ...m, text: m.text.slice(0, 200), truncated: true } : m;
}
