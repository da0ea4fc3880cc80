import type { ConnectionState } from '@parley/client';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStore, type Chat } from '../chat';
import { navigate, useChannelRoute } from '../route';
import { ChannelView } from './ChannelView';
import { NewChannelDialog } from './NewChannelDialog';
import { Sidebar } from './Sidebar';
import { ThreadPanel } from './ThreadPanel';

function useConnection(chat: Chat): ConnectionState {
  const rt = chat.client.realtime;
  return useSyncExternalStore(
    (cb) => rt.on('state', cb),
    () => rt.state,
  );
}

const STATUS: Partial<Record<ConnectionState, string>> = {
  idle: 'Connecting…',
  connecting: 'Connecting…',
  reconnecting: 'Connection lost. Reconnecting…',
  closed: 'Disconnected.',
};

export function ChatApp({ chat, onSignOut }: { chat: Chat; onSignOut: () => void }) {
  const channelId = useChannelRoute();
  const connection = useConnection(chat);
  const { channels, loaded, totalUnread } = useStore(chat.channels);
  const [dialog, setDialog] = useState<'dm' | 'group'>();
  const [thread, setThread] = useState<{ channelId: string; seq: number }>();
  const channel = channels.find((c) => c.id === channelId);

  useEffect(() => {
    if (thread && thread.channelId !== channelId) setThread(undefined);
  }, [channelId, thread]);

  // A channel opened by link that is not in the list yet (e.g. just created): fetch it.
  useEffect(() => {
    if (!channelId || !loaded || channel) return;
    chat.client.getChannel(channelId).then(
      (c) => chat.channels.upsert(c),
      () => navigate('/'),
    );
  }, [chat, channelId, loaded, channel]);

  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Parley` : 'Parley';
  }, [totalUnread]);

  return (
    <div className="app" data-connection={connection} data-view={channelId ? 'channel' : 'list'} data-thread={thread ? 'open' : undefined}>
      <a className="skip-link" href="#composer">
        Skip to message box
      </a>
      {STATUS[connection] && (
        <div className={`banner banner-${connection}`} role="status">
          {STATUS[connection]}
        </div>
      )}
      <Sidebar chat={chat} activeId={channelId} onNew={setDialog} onSignOut={onSignOut} />
      <main className="main">
        {channelId && channel ? (
          <ChannelView key={channelId} chat={chat} channel={channel} onOpenThread={(seq) => setThread({ channelId, seq })} />
        ) : (
          <div className="empty">
            <h2>Welcome, {chat.users.name(chat.me)}</h2>
            <p>{channelId ? 'Loading…' : 'Pick a channel, or start a conversation.'}</p>
          </div>
        )}
      </main>
      {thread && channel && (
        <ThreadPanel key={`${thread.channelId}:${thread.seq}`} chat={chat} channel={channel} parentSeq={thread.seq} onClose={() => setThread(undefined)} />
      )}
      {dialog && <NewChannelDialog chat={chat} kind={dialog} onClose={() => setDialog(undefined)} />}
    </div>
  );
}
