import type { Channel } from '@parley/client';
import { dmPartner, useStore, type Chat } from '../chat';
import { ADMIN_PATH, navigate, routeLink } from '../route';
import { Avatar } from './Avatar';
import { BotBadge } from './BotBadge';
import { PresenceDot } from './PresenceDot';
import { SearchBox } from './SearchBox';

interface Props {
  chat: Chat;
  activeId: string | undefined;
  onNew: (kind: 'dm' | 'group' | 'browse') => void;
  onSignOut: () => void;
  onSearch: (q: string) => void;
  onOpenUser: (userId: string) => void;
  onProfile: () => void;
}

export function Sidebar({ chat, activeId, onNew, onSignOut, onSearch, onOpenUser, onProfile }: Props) {
  const { channels, loaded, error } = useStore(chat.channels);
  useStore(chat.users); // names of DM partners

  return (
    <nav className="sidebar" aria-label="Channels">
      <header className="sidebar-head">
        <h1>
          <span className="logo" aria-hidden="true" /> Parley
        </h1>
        <p className="me">
          <Avatar chat={chat} userId={chat.me} size={24} decorative />
          <PresenceDot chat={chat} userId={chat.me} /> <span data-testid="me">{chat.users.name(chat.me)}</span> <BotBadge chat={chat} userId={chat.me} />
          <button type="button" className="link profile-link" onClick={onProfile}>
            Profile
          </button>
        </p>
      </header>
      <SearchBox chat={chat} onSearch={onSearch} onOpenUser={onOpenUser} onOpenChannel={(id) => navigate(`/c/${id}`)} />
      <div className="sidebar-actions">
        <button type="button" onClick={() => onNew('dm')}>
          New message
        </button>
        <button type="button" onClick={() => onNew('group')}>
          New group
        </button>
        <button type="button" onClick={() => onNew('browse')}>
          Find channels
        </button>
      </div>
      {!loaded && !error && <p className="muted pad">Loading channels…</p>}
      {error && (
        <p className="error pad" role="alert">
          Could not load channels: {error.message}
        </p>
      )}
      <ul className="channel-list">
        {channels.map((c) => (
          <ChannelLink key={c.id} chat={chat} channel={c} active={c.id === activeId} />
        ))}
      </ul>
      <footer className="sidebar-foot">
        <a href="/docs/">API docs</a>
        <a href={ADMIN_PATH} onClick={routeLink(ADMIN_PATH)}>
          App admin
        </a>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </footer>
    </nav>
  );
}

function ChannelLink({ chat, channel, active }: { chat: Chat; channel: Channel; active: boolean }) {
  const unread = active ? 0 : channel.unread_count ?? 0;
  const partner = channel.type === 'dm' ? dmPartner(channel, chat.me) : undefined;
  const muted = channel.membership?.muted;
  const online = useStore(chat.presence).online[partner ?? ''] === true;
  return (
    <li>
      <a
        href={`/c/${channel.id}`}
        className={`channel-link${active ? ' active' : ''}${unread > 0 ? ' has-unread' : ''}`}
        aria-current={active ? 'page' : undefined}
        data-channel-id={channel.id}
        onClick={routeLink(`/c/${channel.id}`)}
      >
        {partner ? <PresenceDot chat={chat} userId={partner} decorative /> : <span className="hash" aria-hidden="true">{channel.type === 'public' ? '#' : '•'}</span>}
        <span className="channel-name">{chat.channelName(channel)}</span>
        {partner && <BotBadge chat={chat} userId={partner} />}
        {partner && <span className="sr-only"> ({online ? 'online' : 'offline'})</span>}
        {muted && <span className="sr-only"> (muted)</span>}
        {unread > 0 && (
          <span className="badge" data-testid="unread-badge">
            {unread > 99 ? '99+' : unread}
            <span className="sr-only"> unread</span>
          </span>
        )}
      </a>
    </li>
  );
}
