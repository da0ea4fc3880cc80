import type { SearchSuggestions } from '@parley/client';
import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { Chat } from '../chat';

interface Props {
  chat: Chat;
  /** Runs a message search (Enter, or a recent query picked). */
  onSearch: (q: string) => void;
  onOpenChannel: (channelId: string) => void;
  onOpenUser: (userId: string) => void;
}

/** One pickable row of the suggestions. */
interface Option {
  id: string;
  group: 'People' | 'Channels' | 'Recent searches';
  label: string;
  hint?: string;
  pick: () => void;
}

const SUGGEST_DELAY_MS = 150;

/** Is the key press meant for a text field the user is typing in? */
function typingInField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/**
 * The search field at the top of the sidebar: `/` or Ctrl+K (⌘K) focuses it. While it has
 * focus it suggests people (picked: their DM opens), channels (opened) and the user's recent
 * searches (searched again) for what is typed: a combobox with a listbox; arrows move, Enter
 * picks or searches messages, Escape closes.
 */
export function SearchBox({ chat, onSearch, onOpenChannel, onOpenUser }: Props) {
  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  /** The suggestions and the query they answer. */
  const [answer, setAnswer] = useState<{ q: string; s: SearchSuggestions }>();
  const [active, setActive] = useState(-1);
  const [error, setError] = useState<string>();
  const input = useRef<HTMLInputElement>(null);
  const [refresh, setRefresh] = useState(0);

  useEffect(() => {
    const onKey = (e: globalThis.KeyboardEvent) => {
      const ctrlK = (e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k';
      if (ctrlK || (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typingInField(e.target))) {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    if (!open) return;
    const abort = new AbortController();
    const q = text.trim();
    const timer = setTimeout(() => {
      chat.client.searchSuggest(q, { limit: 5, signal: abort.signal }).then(
        (s) => {
          setAnswer({ q, s });
          setError(undefined);
        },
        (e: Error) => {
          if (!abort.signal.aborted) setError(e.message);
        },
      );
    }, SUGGEST_DELAY_MS);
    return () => {
      clearTimeout(timer);
      abort.abort();
    };
  }, [chat, text, open, refresh]);

  const close = () => {
    setOpen(false);
    setActive(-1);
  };
  const done = () => {
    close();
    input.current?.blur();
  };

  // Only the answer for what the field holds now: an older one would offer (and pick) stale rows.
  const suggestions = answer?.q === text.trim() ? answer.s : undefined;
  const options: Option[] = [];
  if (suggestions) {
    for (const u of suggestions.users.filter((u) => u.id !== chat.me)) {
      const pick = () => {
        done();
        onOpenUser(u.id);
      };
      options.push({ id: `user-${u.id}`, group: 'People', label: u.name || u.id, hint: `@${u.id}`, pick });
    }
    for (const c of suggestions.channels) {
      const pick = () => {
        done();
        onOpenChannel(c.id);
      };
      options.push({ id: `channel-${c.id}`, group: 'Channels', label: chat.channelName(c), hint: c.type === 'public' ? '#' : undefined, pick });
    }
    for (const r of suggestions.recent) {
      options.push({
        id: `recent-${r.at}-${r.query}`,
        group: 'Recent searches',
        label: r.query,
        pick: () => {
          setText(r.query);
          done();
          onSearch(r.query);
        },
      });
    }
  }

  function submit() {
    const q = text.trim();
    if (!q) return;
    done();
    onSearch(text);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      setOpen(true);
      if (!options.length) return;
      const step = e.key === 'ArrowDown' ? 1 : -1;
      // -1 is the field itself: the arrows cycle through it and the options.
      setActive((a) => {
        const next = a + step;
        return next < -1 ? options.length - 1 : next >= options.length ? -1 : next;
      });
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const o = options[active];
      if (open && o) o.pick();
      else submit();
    } else if (e.key === 'Escape') {
      e.preventDefault(); // a search field's own Escape clears it, which would open the list again
      if (open) {
        e.stopPropagation();
        close();
      } else {
        setText('');
      }
    }
  }

  async function clearRecent() {
    try {
      await chat.client.clearRecentSearches();
      setRefresh((n) => n + 1);
      input.current?.focus();
    } catch (e) {
      setError((e as Error).message);
    }
  }

  const activeOption = options[active];
  const groups = ['People', 'Channels', 'Recent searches'] as const;
  return (
    <div className="search-box" role="search">
      <input
        ref={input}
        type="search"
        role="combobox"
        aria-label="Search messages"
        aria-expanded={open}
        aria-controls="search-suggestions"
        aria-autocomplete="list"
        aria-activedescendant={open && activeOption ? `suggestion-${activeOption.id}` : undefined}
        placeholder="Search  ( / )"
        value={text}
        maxLength={1000}
        onChange={(e) => {
          setText(e.target.value);
          setOpen(true);
          setActive(-1);
        }}
        onFocus={() => setOpen(true)}
        onBlur={close}
        onKeyDown={onKeyDown}
      />
      {open && (
        <div className="suggestions" onMouseDown={(e) => e.preventDefault() /* keep the field's focus */}>
          <ul id="search-suggestions" role="listbox" aria-label="Suggestions">
            {groups.map((g) => {
              const inGroup = options.filter((o) => o.group === g);
              if (!inGroup.length) return null;
              return (
                <li key={g} role="presentation">
                  <p className="suggestion-group" id={`suggestion-group-${g.replace(/ /g, '-')}`}>
                    {g}
                  </p>
                  <ul role="group" aria-labelledby={`suggestion-group-${g.replace(/ /g, '-')}`}>
                    {inGroup.map((o) => (
                      <li
                        key={o.id}
                        id={`suggestion-${o.id}`}
                        role="option"
                        aria-selected={o === activeOption}
                        className={`suggestion${o === activeOption ? ' active' : ''}`}
                        onClick={o.pick}
                      >
                        {o.hint === '#' && <span aria-hidden="true"># </span>}
                        {o.label}
                        {o.hint && o.hint !== '#' && <span className="muted"> {o.hint}</span>}
                      </li>
                    ))}
                  </ul>
                </li>
              );
            })}
          </ul>
          {text.trim() && (
            <button type="button" className="link suggestion-search" onClick={submit}>
              Search messages for “{text.trim()}”
            </button>
          )}
          {suggestions && suggestions.recent.length > 0 && (
            <button type="button" className="link" onClick={clearRecent}>
              Clear recent searches
            </button>
          )}
          {suggestions && options.length === 0 && !text.trim() && <p className="muted small">Type to search messages.</p>}
          {error && (
            <p className="error small" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
