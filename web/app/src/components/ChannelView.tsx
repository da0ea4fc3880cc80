import type { Channel } from '@parley/client';
import { useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { useStore, type Chat } from '../chat';
import { navigate } from '../route';
import { filesOf, useUploads } from '../uploads';
import { BotBadge } from './BotBadge';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { PresenceDot } from './PresenceDot';
import { TypingIndicator } from './TypingIndicator';

/** A message to show and highlight (a search hit); a new `nonce` asks again for the same one. */
export interface Focus {
  seq: number;
  nonce: number;
}

interface Props {
  chat: Chat;
  channel: Channel;
  focus?: Focus;
  onOpenThread: (seq: number) => void;
}

export function ChannelView({ chat, channel, focus, onOpenThread }: Props) {
  const store = chat.messagesFor(channel.id);
  const membersStore = chat.membersFor(channel.id);
  const { members } = useStore(membersStore);
  const memberIds = useMemo(() => members.map((m) => m.user_id), [members]);
  const name = chat.channelName(channel);
  const label = channel.type === 'dm' ? name : `#${name}`;

  useEffect(() => {
    if (!memberIds.length) return;
    chat.users.ensure(memberIds);
    void chat.presence.watch(memberIds);
  }, [chat, memberIds]);

  // A public channel viewed without joining: hear its events meanwhile.
  const visiting = !channel.membership && channel.type === 'public';
  useEffect(() => {
    if (!visiting) return;
    const rt = chat.client.realtime;
    rt.watchChannel(channel.id).catch(() => undefined);
    return () => void rt.unwatchChannel(channel.id).catch(() => undefined);
  }, [chat, channel.id, visiting]);

  useStore(chat.presence);
  const online = memberIds.filter((id) => chat.presence.isOnline(id));

  // Files dropped anywhere on the conversation go to the composer.
  const uploads = useUploads(chat.client);
  const canAttach = !!channel.membership && !channel.archived_at;
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0);
  const hasFiles = (e: DragEvent) => canAttach && Array.from(e.dataTransfer.types).includes('Files');
  const drop = {
    onDragEnter: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current++;
      setDragging(true);
    },
    onDragOver: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    },
    onDragLeave: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth.current = Math.max(0, depth.current - 1);
      if (depth.current === 0) setDragging(false);
    },
    onDrop: (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth.current = 0;
      setDragging(false);
      uploads.add(filesOf(e.dataTransfer));
    },
  };

  return (
    <section className={`channel${dragging ? ' dragging' : ''}`} aria-labelledby="channel-title" {...drop}>
      {dragging && (
        <div className="drop-hint" aria-hidden="true">
          Drop files to attach them to your message
        </div>
      )}
      <header className="channel-head">
        <button type="button" className="back icon" aria-label="Back to channels" onClick={() => navigate('/')}>
          ←
        </button>
        <div className="channel-title">
          <h2 id="channel-title">{label}</h2>
          {channel.topic && <p className="topic">{channel.topic}</p>}
        </div>
        <ul className="member-dots" aria-label={`${online.length} of ${memberIds.length} members online`}>
          {memberIds.slice(0, 8).map((id) => (
            <li key={id} title={chat.users.name(id)}>
              <PresenceDot chat={chat} userId={id} /> <span className="member-name">{chat.users.name(id)}</span>
              <BotBadge chat={chat} userId={id} />
            </li>
          ))}
        </ul>
      </header>
      <MessageList chat={chat} channel={channel} store={store} membersStore={membersStore} focus={focus} onOpenThread={onOpenThread} />
      <TypingIndicator chat={chat} channelId={channel.id} />
      {!channel.membership ? (
        <JoinBar chat={chat} channel={channel} label={label} />
      ) : (
      <Composer
        id="composer"
        chat={chat}
        channelId={channel.id}
        memberIds={memberIds}
        label={`Message ${label}`}
        disabled={!!channel.archived_at}
        uploads={uploads}
        onSend={(text, attachments) => store.send(text, attachments.length ? { attachments } : {})}
      />
      )}
    </section>
  );
}

/** Instead of the composer in a public channel the user is not a member of. */
function JoinBar({ chat, channel, label }: { chat: Chat; channel: Channel; label: string }) {
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function join() {
    setBusy(true);
    try {
      await chat.client.joinChannel(channel.id);
      chat.channels.upsert(await chat.client.getChannel(channel.id));
    } catch (e) {
      setError((e as Error).message);
      setBusy(false);
    }
  }
  return (
    <div className="join-bar">
      <span>You are viewing {label}.</span>
      <button type="button" className="primary" disabled={busy} onClick={join}>
        Join channel
      </button>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
