import type { Channel, ChannelSearchResult } from '@parley/client';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { Chat } from '../chat';
import { navigate } from '../route';

interface Props {
  chat: Chat;
  onClose: () => void;
}

const DELAY_MS = 150;

/** Find channels by name or topic (all of them before anything is typed): the user's own, and public ones to view or join. */
export function ChannelBrowser({ chat, onClose }: Props) {
  const [q, setQ] = useState('');
  const [result, setResult] = useState<ChannelSearchResult>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    const back = opener.current;
    return () => (back as HTMLElement | null)?.focus?.();
  }, []);

  // An empty query lists every channel (the user's, and the public ones to join).
  useEffect(() => {
    const abort = new AbortController();
    const timer = setTimeout(() => {
      chat.client.searchChannels(q.trim(), { limit: 20, signal: abort.signal }).then(
        (r) => {
          setResult(r);
          setError(undefined);
        },
        (e: Error) => !abort.signal.aborted && setError(e.message),
      );
    }, DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [chat, q]);

  const open = (id: string) => {
    onClose();
    navigate(`/c/${id}`);
  };

  async function join(c: Channel) {
    setBusy(c.id);
    setError(undefined);
    try {
      await chat.client.joinChannel(c.id);
      chat.channels.upsert(await chat.client.getChannel(c.id));
      open(c.id);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="dialog"
        role="dialog"
        aria-modal="true"
        aria-labelledby="browse-title"
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
      >
        <header className="dialog-head">
          <h2 id="browse-title">Find channels</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </header>
        <label className="field">
          <span>Channel name or topic</span>
          <input type="search" autoFocus value={q} onChange={(e) => setQ(e.target.value)} placeholder="e.g. design" />
        </label>
        {result && (
          <>
            <ChannelGroup title="Your channels" channels={result.mine} chat={chat} empty="None of yours match.">
              {(c) => (
                <button type="button" onClick={() => open(c.id)}>
                  Open
                </button>
              )}
            </ChannelGroup>
            <ChannelGroup title="Public channels" channels={result.public} chat={chat} empty="No public channels to join match.">
              {(c) => (
                <>
                  <button type="button" onClick={() => open(c.id)}>
                    View
                  </button>
                  <button type="button" className="primary" disabled={busy === c.id} onClick={() => join(c)} aria-label={`Join ${c.name}`}>
                    Join
                  </button>
                </>
              )}
            </ChannelGroup>
          </>
        )}
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}

function ChannelGroup(props: { title: string; channels: Channel[]; chat: Chat; empty: string; children: (c: Channel) => ReactNode }) {
  const { title, channels, chat, empty, children } = props;
  return (
    <section className="channel-group" aria-label={title}>
      <h3>{title}</h3>
      <ul className="people">
        {channels.map((c) => (
          <li key={c.id} className="channel-row">
            <span className="channel-row-name">
              {c.type === 'public' ? '#' : ''}
              {chat.channelName(c)}
              {c.topic && <span className="muted small"> — {c.topic}</span>}
              <span className="muted small"> · {c.member_count} {c.member_count === 1 ? 'member' : 'members'}</span>
            </span>
            <span className="channel-row-actions">{children(c)}</span>
          </li>
        ))}
        {channels.length === 0 && <li className="muted">{empty}</li>}
      </ul>
    </section>
  );
}
