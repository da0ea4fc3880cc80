import type { ParleyClient } from '../client.js';
import { Store } from './store.js';

export interface PresenceState {
  /** user id → online; users not watched are absent. */
  online: Record<string, boolean>;
}

/**
 * Who is online among watched users: `presence.watch` over the socket (re-sent after each
 * reconnect), `presence.changed` events, and a REST read when the socket is not open and
 * after each (re)connect.
 */
export class PresenceStore extends Store<PresenceState> {
  private readonly watched = new Set<string>();
  /** A counter, and per user the counter value of its last event: newer than a REST read. */
  private clock = 0;
  private readonly eventAt = new Map<string, number>();
  private readonly off: () => void;

  constructor(private readonly client: ParleyClient) {
    super({ online: {} });
    const rt = client.realtime;
    const offChanged = rt.on('presence.changed', (ev) => {
      this.eventAt.set(ev.data.user_id, ++this.clock);
      this.set([{ user_id: ev.data.user_id, online: ev.data.online }]);
    });
    // Watches re-sent by the connection answer nothing here: read everyone's state once caught up.
    const offResumed = rt.on('resumed', () => void this.refresh([...this.watched]));
    this.off = () => {
      offChanged();
      offResumed();
    };
  }

  dispose(): void {
    this.off();
  }

  isOnline(userId: string): boolean {
    return this.state.online[userId] === true;
  }

  /** Starts following these users (ids already followed are skipped). */
  async watch(userIds: string[]): Promise<void> {
    const fresh = [...new Set(userIds)].filter((id) => !this.watched.has(id));
    if (fresh.length === 0) return;
    fresh.forEach((id) => this.watched.add(id));
    const rt = this.client.realtime;
    if (rt.state === 'open') {
      try {
        const ack = await rt.watchPresence(fresh);
        if (ack.presence.length > 0) return this.set(ack.presence);
      } catch {
        // fall back to REST below
      }
    } else {
      void rt.watchPresence(fresh); // recorded: sent when the connection opens
    }
    await this.refresh(fresh);
  }

  private async refresh(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 100) {
      const asked = ++this.clock;
      try {
        const items = await this.client.getPresence(ids.slice(i, i + 100));
        this.set(items.filter((p) => (this.eventAt.get(p.user_id) ?? 0) < asked));
      } catch {
        // presence is best effort; events will correct it
      }
    }
  }

  private set(items: { user_id: string; online: boolean }[]): void {
    const online = { ...this.state.online };
    let changed = false;
    for (const p of items) {
      if (online[p.user_id] !== p.online) {
        online[p.user_id] = p.online;
        changed = true;
      }
    }
    if (changed) this.setState({ online });
  }
}
