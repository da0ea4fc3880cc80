import type { Channel, MemberListStore, MessageListStore } from '@parley/client';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useStore, type Chat } from '../chat';
import type { Focus } from './ChannelView';
import { MessageItem, PendingItem } from './MessageItem';

interface Props {
  chat: Chat;
  channel: Channel;
  store: MessageListStore;
  membersStore: MemberListStore;
  /** Show this message (loading the history around it) and highlight it. */
  focus?: Focus;
  onOpenThread: (seq: number) => void;
}

const NEAR_TOP = 120;
const NEAR_BOTTOM = 48;
const HIGHLIGHT_MS = 6000;

/**
 * The channel's history: newest at the bottom, older pages load when scrolled near the top
 * (keeping the view still), follows new messages while scrolled to the bottom, and marks the
 * channel read while the newest message is in view. A `focus` scrolls to that message and
 * highlights it; when it is far back the list shows the history around it, loads newer pages
 * when scrolled down and offers a jump to the newest messages.
 */
export function MessageList({ chat, channel, store, membersStore, focus, onOpenThread }: Props) {
  const state = useStore(store);
  useStore(membersStore); // "seen by" follows read.updated
  useStore(chat.users);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ first?: number; height: number; top: number }>({ height: 0, top: 0 });
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  const markedUpTo = useRef(0);
  /** The seq to scroll to once it is rendered. */
  const wanted = useRef<number>();
  const [highlight, setHighlight] = useState<number>();
  const [, rerender] = useState(0);

  const focusSeq = focus?.seq;
  const focusNonce = focus?.nonce;
  useEffect(() => {
    if (focusSeq === undefined) return;
    wanted.current = focusSeq;
    atBottom.current = false;
    store
      .loadAround(focusSeq)
      .catch(() => undefined)
      .finally(() => {
        // Held already: no change of state would render again to scroll.
        if (!store.getSnapshot().messages.some((m) => m.seq === focusSeq)) wanted.current = undefined;
        rerender((n) => n + 1);
      });
  }, [store, focusSeq, focusNonce]);

  useEffect(() => {
    const s = store.getSnapshot(); // not the render's copy: a focus above may have started a load
    if (!s.loaded && !s.loading) store.loadLatest().catch(() => undefined);
  }, [store, state.loaded, state.loading]);

  // Opened without a jump, a list left on a window of older history (an earlier jump) shows the newest.
  useEffect(() => {
    const s = store.getSnapshot();
    if (focusSeq === undefined && s.hasMoreAfter && !s.loading) store.loadLatest().catch(() => undefined);
    // Only when the list is shown: later windows are the user's doing.
  }, [store]);

  useEffect(() => {
    if (highlight === undefined) return;
    const t = setTimeout(() => setHighlight(undefined), HIGHLIGHT_MS);
    return () => clearTimeout(t);
  }, [highlight, focusNonce]);

  // Authors who are no longer members (or past the directory's first load) get their names and marks too.
  const authors = [...new Set(state.messages.map((m) => m.user_id))].join('\n');
  useEffect(() => {
    if (authors) chat.users.ensure(authors.split('\n'));
  }, [chat, authors]);

  useEffect(() => {
    const on = () => setVisible(document.visibilityState === 'visible');
    document.addEventListener('visibilitychange', on);
    return () => document.removeEventListener('visibilitychange', on);
  }, []);

  const top = state.messages.filter((m) => m.parent_seq === null);
  const pending = state.pending.filter((p) => p.parent_seq === null);
  const newest = state.messages[state.messages.length - 1]?.seq ?? 0;

  const markRead = useCallback(() => {
    // Not from a window of older history, nor in a public channel the user has not joined.
    if (!visible || !atBottom.current || newest === 0 || state.hasMoreAfter || !channel.membership) return;
    const read = channel.membership?.last_read_seq ?? 0;
    if (newest <= Math.max(read, markedUpTo.current) && (channel.unread_count ?? 0) === 0) return;
    markedUpTo.current = newest;
    chat.channels.markRead(channel.id, newest).catch(() => {
      markedUpTo.current = 0;
    });
  }, [chat, channel, newest, visible, state.hasMoreAfter]);

  // Keep the view still when older messages are prepended; follow new ones at the bottom.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = top[0]?.seq;
    const prev = before.current;
    if (prev.first !== undefined && first !== undefined && first < prev.first && !atBottom.current) {
      el.scrollTop = el.scrollHeight - prev.height + prev.top;
    } else if (atBottom.current && wanted.current === undefined) {
      el.scrollTop = el.scrollHeight;
    }
    const seq = wanted.current;
    const target = seq === undefined ? null : el.querySelector<HTMLElement>(`.message-list > li[data-seq="${seq}"]`);
    if (target) {
      wanted.current = undefined;
      target.scrollIntoView({ block: 'center' });
      setHighlight(seq);
    }
    before.current = { first, height: el.scrollHeight, top: el.scrollTop };
  });

  useEffect(() => {
    markRead();
    // A first page that does not fill the view: load more until it does.
    const el = ref.current;
    if (el && state.loaded && state.hasMoreBefore && !state.loadingOlder && el.scrollHeight <= el.clientHeight + NEAR_TOP) {
      store.loadOlder().catch(() => undefined);
    }
    if (el && state.loaded && state.hasMoreAfter && !state.loadingNewer && el.scrollHeight <= el.clientHeight + NEAR_TOP) {
      store.loadNewer().catch(() => undefined);
    }
  }, [markRead, store, state.loaded, state.hasMoreBefore, state.loadingOlder, state.hasMoreAfter, state.loadingNewer, state.messages]);

  function onScroll() {
    const el = ref.current!;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    // In a window of older history the bottom is not the newest message: do not stick to it;
    // nor while a jump waits for its message (this may be the scroll of the list it replaces).
    atBottom.current = nearBottom && !state.hasMoreAfter && wanted.current === undefined;
    before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < NEAR_TOP && state.hasMoreBefore && !state.loadingOlder) store.loadOlder().catch(() => undefined);
    if (el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_TOP && state.hasMoreAfter && !state.loadingNewer && wanted.current === undefined) {
      store.loadNewer().catch(() => undefined);
    }
    if (atBottom.current) markRead();
  }

  function jumpToLatest() {
    atBottom.current = true;
    store.loadLatest().catch(() => undefined);
  }

  const mine = [...top].reverse().find((m) => m.user_id === chat.me && !m.deleted_at);
  const seenBy = mine ? membersStore.seenBy(mine) : [];

  return (
    <div
      className="messages"
      ref={ref}
      onScroll={onScroll}
      role="log"
      aria-label={`Messages in ${chat.channelName(channel)}`}
      aria-busy={state.loading || state.loadingOlder}
      tabIndex={0}
    >
      {state.loadingOlder && <p className="muted center">Loading older messages…</p>}
      {state.loaded && !state.hasMoreBefore && <p className="muted center history-start">This is the beginning of {chat.channelName(channel)}.</p>}
      {state.error && !state.loaded && (
        <p className="error center" role="alert">
          Could not load messages: {state.error.message}{' '}
          <button type="button" className="link" onClick={() => store.loadLatest().catch(() => undefined)}>
            Try again
          </button>
        </p>
      )}
      <ol className="message-list">
        {top.map((m) => (
          <MessageItem
            key={m.seq}
            chat={chat}
            store={store}
            message={m}
            seenBy={m === mine ? seenBy : undefined}
            highlighted={m.seq === highlight}
            onOpenThread={onOpenThread}
          />
        ))}
        {pending.map((p) => (
          <PendingItem key={p.client_msg_id} chat={chat} store={store} pending={p} />
        ))}
      </ol>
      {state.loadingNewer && <p className="muted center">Loading newer messages…</p>}
      {state.hasMoreAfter && (
        <button type="button" className="jump-latest" onClick={jumpToLatest}>
          Jump to the newest messages ↓
        </button>
      )}
    </div>
  );
}
