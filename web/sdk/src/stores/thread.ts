import type { ParleyClient } from '../client.js';
import type { ParleyError } from '../errors.js';
import type { Message } from '../types.js';
import { MessageCollection } from './collection.js';
import { Store } from './store.js';

export interface ThreadState {
  parent: Message | undefined;
  /** The replies, ascending by seq, each once. */
  replies: Message[];
  loaded: boolean;
  error?: ParleyError;
}

/**
 * One thread: its parent message and every reply (paged in with `after_seq`), kept current
 * from events; after a reconnect, replies after the newest held are fetched again.
 */
export class ThreadStore extends Store<ThreadState> {
  private readonly replies: MessageCollection;
  private readonly parentCol: MessageCollection;
  private readonly off: () => void;
  private disposed = false;

  constructor(
    private readonly client: ParleyClient,
    readonly channelId: string,
    readonly parentSeq: number,
  ) {
    super({ parent: undefined, replies: [], loaded: false });
    this.replies = new MessageCollection(() => client.userId);
    this.parentCol = new MessageCollection(() => client.userId);
    const rt = client.realtime;
    const offEvent = rt.on('event', (ev) => {
      if (ev.channel_id !== channelId) return;
      let changed = this.parentCol.apply(ev);
      if (ev.event === 'message.new') {
        if (ev.data.message.parent_seq === parentSeq) changed = this.replies.upsert([ev.data.message], true) || changed;
      } else {
        changed = this.replies.apply(ev) || changed;
      }
      if (changed) this.publish();
    });
    const offResumed = rt.on('resumed', ({ reconnected }) => {
      if (reconnected && this.state.loaded) void this.load();
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

  /** Loads the parent and every reply after the newest held. */
  async load(): Promise<void> {
    try {
      let since = MessageCollection.stamp;
      const parent = await this.client.getMessage(this.channelId, this.parentSeq);
      this.parentCol.upsert([parent], false, since);
      let after = this.replies.newestSeq ?? 0;
      for (;;) {
        since = MessageCollection.stamp;
        const page = await this.client.listReplies(this.channelId, this.parentSeq, { after_seq: after, limit: 200 });
        this.replies.upsert(page.items, false, since);
        if (!page.has_more || page.items.length === 0) break;
        after = page.items[page.items.length - 1].seq;
      }
      if (!this.disposed) this.publish(true);
    } catch (e) {
      if (!this.disposed) this.setState({ error: e as ParleyError });
    }
  }

  /**
   * Applies a message this client changed (the REST answer). `since`: `MessageCollection.stamp`
   * taken before the call (see `MessageListStore.receive`).
   */
  receive(message: Message, since?: number): void {
    const changed = this.parentCol.has(message.seq)
      ? this.parentCol.upsert([message], false, since)
      : message.parent_seq === this.parentSeq && this.replies.upsert([message], false, since);
    if (changed) this.publish();
  }

  private publish(loaded = this.state.loaded): void {
    this.setState({ parent: this.parentCol.items[0], replies: this.replies.items, loaded });
  }
}
