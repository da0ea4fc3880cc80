import type { AnyParleyEvent } from '../events.js';
import type { Message } from '../types.js';

/** Counts events applied, across collections: a stamp taken before a REST call orders it against them. */
let eventClock = 0;

/**
 * Messages of one channel kept sorted by seq, each seq at most once. Applies the realtime
 * events that change a message it holds. Mutations return whether anything changed; `items`
 * is a new array after each change (safe to hand to a UI as a snapshot).
 *
 * A REST answer may be older than an event that overtook it (a send's answer arriving after the
 * message.updated with its link previews): pass `stamp`, taken before the request, with it, and
 * messages an event changed since are kept as the event left them. Every change made over REST
 * is announced as an event too, so nothing newer is lost.
 */
export class MessageCollection {
  items: Message[] = [];
  private bySeq = new Map<number, Message>();
  /** Per seq, `eventClock` when an event last changed it. */
  private eventAt = new Map<number, number>();

  /** Take before a REST request; pass to `upsert` with its answer. */
  static get stamp(): number {
    return eventClock;
  }

  constructor(private readonly me: () => string | undefined) {}

  has(seq: number): boolean {
    return this.bySeq.has(seq);
  }

  get(seq: number): Message | undefined {
    return this.bySeq.get(seq);
  }

  get size(): number {
    return this.items.length;
  }

  get oldestSeq(): number | undefined {
    return this.items[0]?.seq;
  }

  get newestSeq(): number | undefined {
    return this.items[this.items.length - 1]?.seq;
  }

  /**
   * Adds or replaces messages. `fromEvent`: event copies carry no `own_reactions`, so the
   * held ones are kept. `since`: REST copies read by a request made at that `stamp`; a held
   * message an event changed after it is kept.
   */
  upsert(messages: Message[], fromEvent = false, since?: number): boolean {
    let changed = false;
    let next: Message[] | undefined;
    for (const incoming of messages) {
      const held = this.bySeq.get(incoming.seq);
      if (held && !fromEvent && since !== undefined && (this.eventAt.get(incoming.seq) ?? 0) > since) continue;
      const m = held && fromEvent ? { ...incoming, own_reactions: held.own_reactions } : incoming;
      if (fromEvent) this.eventAt.set(m.seq, ++eventClock);
      if (held && sameMessage(held, m)) continue;
      next ??= this.items.slice();
      const at = lowerBound(next, m.seq);
      if (held) next[at] = m;
      else next.splice(at, 0, m);
      this.bySeq.set(m.seq, m);
      changed = true;
    }
    if (next) this.items = next;
    return changed;
  }

  private patch(seq: number, change: (m: Message) => Message): boolean {
    const held = this.bySeq.get(seq);
    if (!held) return false;
    this.eventAt.set(seq, ++eventClock);
    return this.upsert([change(held)]);
  }

  /** Applies an event of this collection's channel; true when a held message changed. */
  apply(ev: AnyParleyEvent): boolean {
    switch (ev.event) {
      case 'message.new':
      case 'message.updated':
      case 'message.deleted':
        if (ev.event !== 'message.new' && !this.has(ev.data.message.seq)) return false;
        return this.upsert([ev.data.message], true);
      case 'reaction.added':
      case 'reaction.removed': {
        const { seq, type, user_id, reactions } = ev.data;
        const mine = user_id === this.me();
        return this.patch(seq, (m) => {
          let own = m.own_reactions;
          if (mine) {
            own = ev.event === 'reaction.added' ? [...new Set([...own, type])] : own.filter((t) => t !== type);
          }
          return { ...m, reactions, own_reactions: own };
        });
      }
      case 'thread.reply': {
        const { parent_seq, reply_count, thread_participants } = ev.data;
        return this.patch(parent_seq, (m) => ({ ...m, reply_count, thread_participants }));
      }
      default:
        return false;
    }
  }
}

function lowerBound(items: Message[], seq: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid].seq < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Whether `b` shows nothing new over `a`. Every field an event may change alone counts: link
 * previews arrive in a `message.updated` with the same text and `edited_at`.
 */
function sameMessage(a: Message, b: Message): boolean {
  return (
    a.text === b.text &&
    a.edited_at === b.edited_at &&
    a.deleted_at === b.deleted_at &&
    a.reply_count === b.reply_count &&
    a.pinned === b.pinned &&
    a.truncated === b.truncated &&
    JSON.stringify(a.reactions) === JSON.stringify(b.reactions) &&
    a.own_reactions.join() === b.own_reactions.join() &&
    a.thread_participants.join() === b.thread_participants.join() &&
    JSON.stringify(a.link_previews) === JSON.stringify(b.link_previews) &&
    JSON.stringify(a.attachments) === JSON.stringify(b.attachments)
  );
}
