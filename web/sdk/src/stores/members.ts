import type { ParleyClient } from '../client.js';
import type { ParleyError } from '../errors.js';
import type { Membership } from '../types.js';
import { Store } from './store.js';

export interface MemberListState {
  members: Membership[];
  loaded: boolean;
  error?: ParleyError;
}

/**
 * The members of one channel with their read positions: loaded over REST, `read.updated`
 * moves a member's `last_read_seq`, membership events reload. `seenBy(message)` answers the
 * "seen by" list without a request per message. Call `dispose()` when done.
 */
export class MemberListStore extends Store<MemberListState> {
  private readonly off: () => void;
  private disposed = false;

  constructor(
    private readonly client: ParleyClient,
    readonly channelId: string,
  ) {
    super({ members: [], loaded: false });
    const rt = client.realtime;
    const offEvent = rt.on('event', (ev) => {
      if (ev.channel_id !== channelId) return;
      if (ev.event === 'read.updated') this.moveRead(ev.data.user_id, ev.data.last_read_seq);
      else if (ev.event === 'member.added' || ev.event === 'member.removed' || ev.event === 'member.updated') void this.load();
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

  async load(): Promise<void> {
    try {
      const members: Membership[] = [];
      let cursor: string | undefined;
      do {
        const page = await this.client.listMembers(this.channelId, { limit: 200, cursor });
        members.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      if (this.disposed) return;
      // Keep read positions that moved while the request was under way.
      const held = new Map(this.state.members.map((m) => [m.user_id, m.last_read_seq]));
      const merged = members.map((m) => ({ ...m, last_read_seq: Math.max(m.last_read_seq, held.get(m.user_id) ?? 0) }));
      this.setState({ members: merged, loaded: true, error: undefined });
    } catch (e) {
      if (!this.disposed) this.setState({ error: e as ParleyError });
    }
  }

  /** Members other than the author whose last-read seq reaches the message. */
  seenBy(message: { seq: number; user_id: string }): string[] {
    return this.state.members.filter((m) => m.user_id !== message.user_id && m.last_read_seq >= message.seq).map((m) => m.user_id);
  }

  private moveRead(userId: string, seq: number): void {
    const i = this.state.members.findIndex((m) => m.user_id === userId);
    if (i < 0 || this.state.members[i].last_read_seq >= seq) return;
    const members = this.state.members.slice();
    members[i] = { ...members[i], last_read_seq: seq };
    this.setState({ members });
  }
}
