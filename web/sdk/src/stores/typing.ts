import type { ParleyClient } from '../client.js';
import { Store } from './store.js';

export interface TypingState {
  /** channel id → ids of the users typing there (never the current user). */
  typing: Record<string, string[]>;
}

/**
 * Who is typing, per channel, from `typing.start`/`typing.stop` events. An entry also ends
 * when that user's message arrives, or after `ttlMs` without news (the server stops typing
 * after 5 s by itself; this guards against a lost stop).
 */
export class TypingStore extends Store<TypingState> {
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly off: () => void;

  constructor(
    private readonly client: ParleyClient,
    private readonly ttlMs = 7000,
  ) {
    super({ typing: {} });
    const rt = client.realtime;
    const offs = [
      rt.on('typing.start', (ev) => ev.channel_id && this.start(ev.channel_id, ev.data.user_id)),
      rt.on('typing.stop', (ev) => ev.channel_id && this.stop(ev.channel_id, ev.data.user_id)),
      rt.on('message.new', (ev) => ev.channel_id && this.stop(ev.channel_id, ev.data.message.user_id)),
      rt.on('disconnected', () => this.clear()),
    ];
    this.off = () => offs.forEach((f) => f());
  }

  dispose(): void {
    this.off();
    this.clear();
  }

  private start(channelId: string, userId: string): void {
    if (userId === this.client.userId) return;
    const key = `${channelId}\n${userId}`;
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => this.stop(channelId, userId), this.ttlMs));
    const cur = this.state.typing[channelId] ?? [];
    if (!cur.includes(userId)) this.setState({ typing: { ...this.state.typing, [channelId]: [...cur, userId] } });
  }

  private stop(channelId: string, userId: string): void {
    const key = `${channelId}\n${userId}`;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    const cur = this.state.typing[channelId];
    if (cur?.includes(userId)) {
      this.setState({ typing: { ...this.state.typing, [channelId]: cur.filter((u) => u !== userId) } });
    }
  }

  private clear(): void {
    this.timers.forEach((t) => clearTimeout(t));
    this.timers.clear();
    if (Object.keys(this.state.typing).length > 0) this.setState({ typing: {} });
  }
}
