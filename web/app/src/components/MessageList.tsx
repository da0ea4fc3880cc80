import type { Channel, MemberListStore, MessageListStore } from '@parley/client';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { useStore, type Chat } from '../chat';
import { MessageItem, PendingItem } from './MessageItem';

interface Props {
  chat: Chat;
  channel: Channel;
  store: MessageListStore;
  membersStore: MemberListStore;
  onOpenThread: (seq: number) => void;
}

const NEAR_TOP = 120;
const NEAR_BOTTOM = 48;

/**
 * The channel's history: newest at the bottom, older pages load when scrolled near the top
 * (keeping the view still), follows new messages while scrolled to the bottom, and marks the
 * channel read while the newest message is in view.
 */
export function MessageList({ chat, channel, store, membersStore, onOpenThread }: Props) {
  const state = useStore(store);
  useStore(membersStore); // "seen by" follows read.updated
  useStore(chat.users);
  const ref = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ first?: number; height: number; top: number }>({ height: 0, top: 0 });
  const [visible, setVisible] = useState(() => document.visibilityState === 'visible');
  const markedUpTo = useRef(0);

  useEffect(() => {
    if (!state.loaded && !state.loading) store.loadLatest().catch(() => undefined);
  }, [store, state.loaded, state.loading]);

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
    if (!visible || !atBottom.current || newest === 0) return;
    const read = channel.membership?.last_read_seq ?? 0;
    if (newest <= Math.max(read, markedUpTo.current) && (channel.unread_count ?? 0) === 0) return;
    markedUpTo.current = newest;
    chat.channels.markRead(channel.id, newest).catch(() => {
      markedUpTo.current = 0;
    });
  }, [chat, channel, newest, visible]);

  // Keep the view still when older messages are prepended; follow new ones at the bottom.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const first = top[0]?.seq;
    const prev = before.current;
    if (prev.first !== undefined && first !== undefined && first < prev.first && !atBottom.current) {
      el.scrollTop = el.scrollHeight - prev.height + prev.top;
    } else if (atBottom.current) {
      el.scrollTop = el.scrollHeight;
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
  }, [markRead, store, state.loaded, state.hasMoreBefore, state.loadingOlder, state.messages]);

  function onScroll() {
    const el = ref.current!;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM;
    before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop };
    if (el.scrollTop < NEAR_TOP && state.hasMoreBefore && !state.loadingOlder) store.loadOlder().catch(() => undefined);
    if (atBottom.current) markRead();
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
            onOpenThread={onOpenThread}
          />
        ))}
        {pending.map((p) => (
          <PendingItem key={p.client_msg_id} chat={chat} store={store} pending={p} />
        ))}
      </ol>
    </div>
  );
}
