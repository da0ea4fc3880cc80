import { MessageCollection, ThreadStore, type Channel } from '@parley/client';
import { useEffect, useRef, useState } from 'react';
import { useStore, type Chat } from '../chat';
import { useUploads } from '../uploads';
import { Composer } from './Composer';
import { MessageItem, PendingItem } from './MessageItem';

interface Props {
  chat: Chat;
  channel: Channel;
  parentSeq: number;
  onClose: () => void;
}

/** The thread of one message, beside the channel (over it on a phone). Escape closes it. */
export function ThreadPanel(props: Props) {
  const { chat, channel, parentSeq } = props;
  const [thread, setThread] = useState<ThreadStore>();
  useEffect(() => {
    const t = new ThreadStore(chat.client, channel.id, parentSeq);
    setThread(t);
    void t.load();
    return () => t.dispose();
  }, [chat, channel.id, parentSeq]);
  return thread ? <ThreadView {...props} thread={thread} /> : null;
}

function ThreadView({ chat, channel, parentSeq, onClose, thread }: Props & { thread: ThreadStore }) {
  const messages = chat.messagesFor(channel.id);
  const { parent, replies, loaded, error } = useStore(thread);
  const pending = useStore(messages).pending.filter((p) => p.parent_seq === parentSeq);
  const { members } = useStore(chat.membersFor(channel.id));
  const closeRef = useRef<HTMLButtonElement>(null);
  const uploads = useUploads(chat.client);
  const listRef = useRef<HTMLOListElement>(null);

  useEffect(() => {
    closeRef.current?.focus();
  }, [thread]);

  useEffect(() => {
    listRef.current?.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }, [replies.length, pending.length]);

  return (
    <aside
      className="thread"
      aria-label="Thread"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header className="thread-head">
        <h2>Thread</h2>
        <button type="button" ref={closeRef} className="icon" aria-label="Close thread" onClick={onClose}>
          ✕
        </button>
      </header>
      <div className="thread-body">
        {error && (
          <p className="error" role="alert">
            {error.message}
          </p>
        )}
        {parent && (
          <ol className="message-list parent">
            <MessageItem chat={chat} store={messages} message={parent} inThread onChanged={(m, since) => thread.receive(m, since)} />
          </ol>
        )}
        <p className="muted replies-count">{loaded ? `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}` : 'Loading…'}</p>
        <ol className="message-list" ref={listRef} aria-label="Replies">
          {replies.map((m) => (
            <MessageItem key={m.seq} chat={chat} store={messages} message={m} inThread onChanged={(x, since) => thread.receive(x, since)} />
          ))}
          {pending.map((p) => (
            <PendingItem key={p.client_msg_id} chat={chat} store={messages} pending={p} />
          ))}
        </ol>
      </div>
      <Composer
        chat={chat}
        channelId={channel.id}
        memberIds={members.map((m) => m.user_id)}
        label="Reply in thread"
        disabled={!!channel.archived_at}
        uploads={uploads}
        onSend={async (text, attachments) => {
          const since = MessageCollection.stamp;
          thread.receive(await messages.send(text, { parent_seq: parentSeq, ...(attachments.length ? { attachments } : {}) }), since);
        }}
      />
    </aside>
  );
}
