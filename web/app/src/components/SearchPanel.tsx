import { formatSearchTotal, snippetSegments, type SearchHas, type SearchHit, type SearchParams } from '@parley/client';
import { useEffect, useRef, type ReactNode } from 'react';
import { useStore, type Chat } from '../chat';

interface Props {
  chat: Chat;
  /** The channel open beside the panel: the "In this channel" filter. */
  channelId: string | undefined;
  onOpen: (hit: SearchHit) => void;
  onClose: () => void;
}

/** Filters that are a plain `true` when on. */
const FLAGS: { key: 'mentions_me' | 'pinned' | 'saved' | 'include_public'; label: string }[] = [
  { key: 'mentions_me', label: 'Mentions me' },
  { key: 'pinned', label: 'Pinned' },
  { key: 'saved', label: 'Saved' },
  { key: 'include_public', label: 'Include public channels' },
];

const HAS: { key: SearchHas; label: string }[] = [
  { key: 'link', label: 'Has link' },
  { key: 'attachment', label: 'Has attachment' },
];

/** `YYYY-MM-DD` of a date input ↔ the RFC 3339 instant of that local day's start. */
const dayStart = (day: string) => (day ? new Date(`${day}T00:00:00`).toISOString() : undefined);
function dayOf(ts: string | Date | undefined): string {
  if (!ts) return '';
  const d = new Date(ts);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The results of a message search beside the channel (over it on a phone): filter chips that
 * search again, the total ("57 results", "1000+ results"), hits with their matches marked,
 * and more pages on demand. A hit opens its message in its channel. Escape closes the panel.
 */
export function SearchPanel({ chat, channelId, onOpen, onClose }: Props) {
  const { params, hits, total, hasMore, loading, loadingMore, error } = useStore(chat.search);
  const { users } = useStore(chat.users);
  const { channels } = useStore(chat.channels);
  const head = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    head.current?.focus();
  }, []);

  if (!params) return null;
  // A filter changed: the same query again, not remembered twice.
  const set = (patch: Partial<SearchParams>) => void chat.search.search({ ...params, ...patch, remember: false });
  const has = params.has ?? [];
  const inHere = !!channelId && params.channel_id === channelId;
  const people = Object.values(users)
    .filter((u) => !u.deactivated_at)
    .sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id));

  const channelLabel = (hit: SearchHit) => {
    const held = channels.find((c) => c.id === hit.channel.id);
    if (held) return chat.channelName(held);
    return hit.channel.name || (hit.channel.type === 'dm' ? 'Direct message' : hit.channel.id);
  };

  return (
    <aside
      className="search-panel"
      aria-label="Search results"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onClose();
      }}
    >
      <header className="thread-head">
        <h2 ref={head} tabIndex={-1}>
          Results for “{params.q.trim()}”
        </h2>
        <button type="button" className="icon" aria-label="Close search" onClick={onClose}>
          ✕
        </button>
      </header>
      <div className="search-filters" role="group" aria-label="Filters">
        {channelId && (
          <Chip on={inHere} onClick={() => set({ channel_id: inHere ? undefined : channelId })}>
            In this channel
          </Chip>
        )}
        <label className="chip-select">
          <span className="sr-only">From</span>
          <select aria-label="From" value={typeof params.from === 'string' ? params.from : ''} onChange={(e) => set({ from: e.target.value || undefined })}>
            <option value="">From anyone</option>
            {people.map((u) => (
              <option key={u.id} value={u.id}>
                From {u.name || u.id}
              </option>
            ))}
          </select>
        </label>
        {HAS.map((h) => (
          <Chip key={h.key} on={has.includes(h.key)} onClick={() => set({ has: has.includes(h.key) ? has.filter((x) => x !== h.key) : [...has, h.key] })}>
            {h.label}
          </Chip>
        ))}
        <Chip on={params.in_thread === true} onClick={() => set({ in_thread: params.in_thread === true ? undefined : true })}>
          In threads
        </Chip>
        {FLAGS.map((f) => (
          <Chip key={f.key} on={params[f.key] === true} onClick={() => set({ [f.key]: params[f.key] ? undefined : true })}>
            {f.label}
          </Chip>
        ))}
        <label className="chip-select">
          After <input type="date" aria-label="After" value={dayOf(params.after)} onChange={(e) => set({ after: dayStart(e.target.value) })} />
        </label>
        <label className="chip-select">
          Before <input type="date" aria-label="Before" value={dayOf(params.before)} onChange={(e) => set({ before: dayStart(e.target.value) })} />
        </label>
        <label className="chip-select">
          <span className="sr-only">Sort</span>
          <select aria-label="Sort" value={params.sort ?? 'relevance'} onChange={(e) => set({ sort: e.target.value as SearchParams['sort'] })}>
            <option value="relevance">Most relevant</option>
            <option value="newest">Newest first</option>
          </select>
        </label>
      </div>
      <div className="search-body" aria-busy={loading || loadingMore}>
        {loading && <p className="muted pad">Searching…</p>}
        {error && (
          <p className="error pad" role="alert">
            {error.message}
          </p>
        )}
        {total && !loading && (
          <p className="search-total pad" role="status">
            {formatSearchTotal(total)}
          </p>
        )}
        <ol className="search-hits" aria-label="Results">
          {hits.map((hit) => (
            <li key={`${hit.message.channel_id}:${hit.message.seq}`}>
              <a
                href={`/c/${hit.channel.id}`}
                className="search-hit"
                onClick={(e) => {
                  if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
                  e.preventDefault();
                  onOpen(hit);
                }}
              >
                <span className="search-hit-head">
                  <span className="search-hit-channel">
                    {hit.channel.type === 'dm' ? '' : '#'}
                    {channelLabel(hit)}
                  </span>
                  <span className="author">{chat.users.name(hit.message.user_id)}</span>
                  <time dateTime={hit.message.created_at}>{new Date(hit.message.created_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })}</time>
                  {hit.message.parent_seq !== null && <span className="muted">in a thread</span>}
                </span>
                <span className="snippet">
                  {snippetSegments(hit.snippet).map((s, i) => (s.match ? <mark key={i}>{s.text}</mark> : <span key={i}>{s.text}</span>))}
                </span>
              </a>
            </li>
          ))}
        </ol>
        {total && !loading && hits.length === 0 && !error && <p className="muted pad">No messages match. Try fewer words or other filters.</p>}
        {hasMore && (
          <p className="pad">
            <button type="button" onClick={() => void chat.search.loadMore()} disabled={loadingMore}>
              {loadingMore ? 'Loading…' : 'Load more results'}
            </button>
          </p>
        )}
      </div>
    </aside>
  );
}

function Chip({ on, onClick, children }: { on: boolean; onClick: () => void; children: ReactNode }) {
  return (
    <button type="button" className="chip" aria-pressed={on} onClick={onClick}>
      {children}
    </button>
  );
}
