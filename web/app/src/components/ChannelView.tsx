import type { Channel } from '@parley/client';
import { useEffect, useMemo } from 'react';
import { useStore, type Chat } from '../chat';
import { navigate } from '../route';
import { BotBadge } from './BotBadge';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { PresenceDot } from './PresenceDot';
import { TypingIndicator } from './TypingIndicator';

interface Props {
  chat: Chat;
  channel: Channel;
  onOpenThread: (seq: number) => void;
}

export function ChannelView({ chat, channel, onOpenThread }: Props) {
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

  useStore(chat.presence);
  const online = memberIds.filter((id) => chat.presence.isOnline(id));

  return (
    <section className="channel" aria-labelledby="channel-title">
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
      <MessageList chat={chat} channel={channel} store={store} membersStore={membersStore} onOpenThread={onOpenThread} />
      <TypingIndicator chat={chat} channelId={channel.id} />
      <Composer
        id="composer"
        chat={chat}
        channelId={channel.id}
        memberIds={memberIds}
        label={`Message ${label}`}
        disabled={!!channel.archived_at}
        onSend={(text) => store.send(text)}
      />
    </section>
  );
}
