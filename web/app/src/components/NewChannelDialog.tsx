import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useStore, type Chat } from '../chat';
import { navigate } from '../route';
import { BotBadge } from './BotBadge';

interface Props {
  chat: Chat;
  kind: 'dm' | 'group';
  onClose: () => void;
}

/** Start a direct message with someone, or create a group with a name and members. */
export function NewChannelDialog({ chat, kind, onClose }: Props) {
  const { users } = useStore(chat.users);
  const [name, setName] = useState('');
  const [picked, setPicked] = useState<string[]>([]);
  const [filter, setFilter] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const opener = useRef<Element | null>(document.activeElement);

  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, button')?.focus();
    const back = opener.current;
    return () => (back as HTMLElement | null)?.focus?.();
  }, []);

  const people = Object.values(users)
    .filter((u) => u.id !== chat.me && !u.deactivated_at)
    .filter((u) => !filter || u.id.toLowerCase().includes(filter.toLowerCase()) || u.name.toLowerCase().includes(filter.toLowerCase()))
    .sort((a, b) => a.id.localeCompare(b.id));

  async function act(work: () => Promise<string>) {
    setBusy(true);
    setError(undefined);
    try {
      const id = await work();
      onClose();
      navigate(`/c/${id}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const startDm = (userId: string) =>
    act(async () => {
      const { channel } = await chat.client.ensureDm(userId);
      chat.channels.upsert(channel);
      return channel.id;
    });

  const createGroup = (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setError('Give the group a name.');
    void act(async () => {
      const channel = await chat.client.createChannel({ type: 'group', name: name.trim(), members: picked });
      chat.channels.upsert(channel);
      return channel.id;
    });
  };

  // Keep Tab inside the dialog; Escape closes it.
  function onKeyDown(e: KeyboardEvent) {
    if (e.key === 'Escape') return onClose();
    if (e.key !== 'Tab' || !ref.current) return;
    const focusable = [...ref.current.querySelectorAll<HTMLElement>('button, input, [tabindex="0"]')].filter((el) => !el.hasAttribute('disabled'));
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first.focus();
    }
  }

  const title = kind === 'dm' ? 'New message' : 'New group';
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={ref} onKeyDown={onKeyDown}>
        <header className="dialog-head">
          <h2 id="dialog-title">{title}</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </header>
        {kind === 'dm' ? (
          <>
            <label className="field">
              <span>Find a person</span>
              <input type="search" value={filter} onChange={(e) => setFilter(e.target.value)} placeholder="Name or id" />
            </label>
            <ul className="people" aria-label="People">
              {people.map((u) => (
                <li key={u.id}>
                  <button type="button" disabled={busy} onClick={() => startDm(u.id)}>
                    Message {u.name || u.id} <BotBadge chat={chat} userId={u.id} /> <span className="muted">@{u.id}</span>
                  </button>
                </li>
              ))}
              {people.length === 0 && <li className="muted">Nobody found.</li>}
            </ul>
          </>
        ) : (
          <form onSubmit={createGroup}>
            <label className="field">
              <span>Group name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} required />
            </label>
            <fieldset className="people">
              <legend>Members</legend>
              {people.map((u) => (
                <label key={u.id} className="check">
                  <input
                    type="checkbox"
                    checked={picked.includes(u.id)}
                    onChange={(e) => setPicked(e.target.checked ? [...picked, u.id] : picked.filter((x) => x !== u.id))}
                  />
                  {u.name || u.id} <BotBadge chat={chat} userId={u.id} /> <span className="muted">@{u.id}</span>
                </label>
              ))}
            </fieldset>
            <div className="dialog-actions">
              <button type="button" onClick={onClose}>
                Cancel
              </button>
              <button type="submit" className="primary" disabled={busy}>
                Create group
              </button>
            </div>
          </form>
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
