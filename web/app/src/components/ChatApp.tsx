import type { Channel, ConnectionState, SearchHit } from '@parley/client';
import { useEffect, useState, useSyncExternalStore } from 'react';
import { useStore, type Chat } from '../chat';
import { navigate, useChannelRoute } from '../route';
import { ChannelBrowser } from './ChannelBrowser';
import { ChannelView, type Focus } from './ChannelView';
import { NewChannelDialog } from './NewChannelDialog';
import { ProfileDialog } from './ProfileDialog';
import { SearchPanel } from './SearchPanel';
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
  const [dialog, setDialog] = useState<'dm' | 'group' | 'browse' | 'profile'>();
  const [thread, setThread] = useState<{ channelId: string; seq: number }>();
  const [searching, setSearching] = useState(false);
  const [focus, setFocus] = useState<Focus & { channelId: string }>();
  // A public channel the user views without being a member (from search or the channel finder).
  const [visiting, setVisiting] = useState<Channel>();
  const channel = channels.find((c) => c.id === channelId) ?? (visiting?.id === channelId ? visiting : undefined);

  useEffect(() => {
    if (thread && thread.channelId !== channelId) setThread(undefined);
  }, [channelId, thread]);

  // A jump is made once: coming back to its channel later shows the newest messages.
  useEffect(() => {
    if (focus && focus.channelId !== channelId) setFocus(undefined);
  }, [channelId, focus]);

  // A channel opened by link that is not in the list yet (e.g. just created, or a public one
  // not joined): fetch it.
  useEffect(() => {
    if (!channelId || !loaded || channel) return;
    chat.client.getChannel(channelId).then(
      (c) => (c.membership ? chat.channels.upsert(c) : setVisiting(c)),
      () => navigate('/'),
    );
  }, [chat, channelId, loaded, channel]);

  function runSearch(q: string) {
    setThread(undefined);
    setSearching(true);
    const params = chat.search.getSnapshot().params;
    // A new query keeps the filters chosen for the last one.
    void chat.search.search({ ...params, q, remember: undefined });
  }

  /** Opens a hit's message in its channel (a thread reply: its parent, with the thread open). */
  function openHit(hit: SearchHit) {
    const m = hit.message;
    const id = hit.channel.id;
    setFocus({ channelId: id, seq: m.parent_seq ?? m.seq, nonce: Date.now() });
    if (m.parent_seq !== null) setThread({ channelId: id, seq: m.parent_seq });
    if (m.parent_seq !== null || window.matchMedia('(max-width: 720px)').matches) setSearching(false);
    navigate(`/c/${id}`);
  }

  async function openUser(userId: string) {
    const { channel: dm } = await chat.client.ensureDm(userId);
    chat.channels.upsert(dm);
    navigate(`/c/${dm.id}`);
  }

  useEffect(() => {
    document.title = totalUnread > 0 ? `(${totalUnread}) Parley` : 'Parley';
  }, [totalUnread]);

  return (
    <div
      className="app"
      data-connection={connection}
      data-view={channelId ? 'channel' : 'list'}
      data-thread={thread || searching ? 'open' : undefined}
    >
      <a className="skip-link" href="#composer">
        Skip to message box
      </a>
      {STATUS[connection] && (
        <div className={`banner banner-${connection}`} role="status">
          {STATUS[connection]}
        </div>
      )}
      <Sidebar
        chat={chat}
        activeId={channelId}
        onNew={setDialog}
        onSignOut={onSignOut}
        onSearch={runSearch}
        onOpenUser={(id) => void openUser(id).catch(() => undefined)}
        onProfile={() => setDialog('profile')}
      />
      <main className="main">
        {channelId && channel ? (
          <ChannelView
            key={channelId}
            chat={chat}
            channel={channel}
            focus={focus?.channelId === channelId ? focus : undefined}
            onOpenThread={(seq) => {
              setSearching(false);
              setThread({ channelId, seq });
            }}
          />
        ) : (
          <div className="empty">
            <h2>Welcome, {chat.users.name(chat.me)}</h2>
            <p>{channelId ? 'Loading…' : 'Pick a channel, or start a conversation.'}</p>
          </div>
        )}
      </main>
      {searching && !thread && (
        <SearchPanel chat={chat} channelId={channel?.id} onOpen={openHit} onClose={() => setSearching(false)} />
      )}
      {thread && channel && (
        <ThreadPanel key={`${thread.channelId}:${thread.seq}`} chat={chat} channel={channel} parentSeq={thread.seq} onClose={() => setThread(undefined)} />
      )}
      {dialog === 'browse' && <ChannelBrowser chat={chat} onClose={() => setDialog(undefined)} />}
      {dialog === 'profile' && <ProfileDialog chat={chat} onClose={() => setDialog(undefined)} />}
      {(dialog === 'dm' || dialog === 'group') && <NewChannelDialog chat={chat} kind={dialog} onClose={() => setDialog(undefined)} />}
    </div>
  );
}
