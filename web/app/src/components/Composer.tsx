import { formatFileSize } from '@parley/client';
import { useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { useStore, type Chat } from '../chat';
import { filesOf, type Uploads } from '../uploads';
import { BotBadge } from './BotBadge';
import { FileIcon, PaperclipIcon } from './Icons';

interface Props {
  id?: string;
  chat: Chat;
  channelId: string;
  /** Offered by the @ autocomplete. */
  memberIds: string[];
  label: string;
  disabled?: boolean;
  /** Files attached to the next message (see useUploads); without it the composer takes text only. */
  uploads?: Uploads;
  onSend: (text: string, attachments: { file_id: string }[]) => Promise<unknown>;
}

/**
 * The message box: Enter sends, Shift+Enter breaks the line; typing tells the channel; "@"
 * opens a list of members (arrow keys, Enter or Tab to pick, Escape to close). Files come by
 * the attach button or a paste; each uploads at once, and the message waits until they are up.
 */
export function Composer({ id, chat, channelId, memberIds, label, disabled, uploads, onSend }: Props) {
  const [text, setText] = useState('');
  const [caret, setCaret] = useState(0);
  const [active, setActive] = useState(0);
  const [dismissed, setDismissed] = useState<number>();
  const ref = useRef<HTMLTextAreaElement>(null);
  const picker = useRef<HTMLInputElement>(null);
  const listId = useId();
  const attachments = uploads?.attachments ?? [];
  const canSend = !disabled && !uploads?.busy && (!!text.trim() || attachments.length > 0);
  useStore(chat.users);

  const query = useMemo(() => {
    const m = /(^|\s)@([A-Za-z0-9_.@-]*)$/.exec(text.slice(0, caret));
    return m ? { q: m[2].toLowerCase(), start: caret - m[2].length - 1 } : undefined;
  }, [text, caret]);

  const options = useMemo(() => {
    if (!query || query.start === dismissed) return [];
    return memberIds
      .filter((u) => u !== chat.me)
      .filter((u) => u.toLowerCase().startsWith(query.q) || chat.users.name(u).toLowerCase().startsWith(query.q))
      .slice(0, 8);
  }, [query, dismissed, memberIds, chat]);
  const open = options.length > 0;
  const current = Math.min(active, options.length - 1);

  function pick(userId: string) {
    if (!query) return;
    const next = `${text.slice(0, query.start)}@${userId} ${text.slice(caret)}`;
    const pos = query.start + userId.length + 2;
    setText(next);
    setCaret(pos);
    setActive(0);
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(pos, pos);
    });
  }

  function send() {
    const t = text.trim();
    if (!canSend) return;
    setText('');
    setCaret(0);
    uploads?.clear();
    chat.client.realtime.stopTyping(channelId);
    onSend(t, attachments).catch(() => undefined); // a failure shows on the pending message
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const n = options.length;
        setActive((current + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === 'Enter' || e.key === 'Tab') {
        e.preventDefault();
        pick(options[current]);
        return;
      }
      if (e.key === 'Escape') {
        e.preventDefault();
        setDismissed(query?.start);
        return;
      }
    }
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
    >
      {open && (
        <ul className="mentions" id={listId} role="listbox" aria-label="Mention a member">
          {options.map((u, i) => (
            <li
              key={u}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === current}
              onMouseDown={(e) => {
                e.preventDefault();
                pick(u);
              }}
            >
              <strong>{chat.users.name(u)}</strong> <BotBadge chat={chat} userId={u} /> <span className="muted">@{u}</span>
            </li>
          ))}
        </ul>
      )}
      {uploads && (uploads.items.length > 0 || uploads.notice) && (
        <div className="composer-files">
          {uploads.items.length > 0 && (
            <ul className="pending-files" aria-label="Attached files">
              {uploads.items.map((u) => (
                <li key={u.key} className={`pending-file ${u.status}`} aria-label={`${u.name}, ${u.status === 'uploading' ? 'uploading' : u.status === 'done' ? 'attached' : 'failed'}`}>
                  {u.preview ? (
                    <img className="pending-file-thumb" src={u.preview} alt="" />
                  ) : (
                    <span className="pending-file-icon" aria-hidden="true">
                      <FileIcon />
                    </span>
                  )}
                  <span className="pending-file-body">
                    <span className="pending-file-name">{u.name}</span>
                    <span className="muted pending-file-size">{formatFileSize(u.size)}</span>
                    {u.status === 'uploading' && (
                      <progress className="upload-progress" max={1} value={u.progress} aria-label={`Uploading ${u.name}`}>
                        {Math.round(u.progress * 100)}%
                      </progress>
                    )}
                    {u.status === 'failed' && (
                      <span className="error small" role="alert">
                        {u.error}
                      </span>
                    )}
                  </span>
                  <button
                    type="button"
                    className="icon"
                    aria-label={u.status === 'uploading' ? `Cancel upload of ${u.name}` : `Remove ${u.name}`}
                    onClick={() => uploads.remove(u.key)}
                  >
                    ✕
                  </button>
                </li>
              ))}
            </ul>
          )}
          {uploads.notice && (
            <p className="error small" role="alert">
              {uploads.notice}
            </p>
          )}
        </div>
      )}
      {uploads && (
        <>
          <button type="button" className="icon attach" aria-label="Attach files" title="Attach files" disabled={disabled} onClick={() => picker.current?.click()}>
            <PaperclipIcon />
          </button>
          <input
            ref={picker}
            type="file"
            multiple
            hidden
            aria-hidden="true"
            tabIndex={-1}
            data-testid="file-input"
            onChange={(e) => {
              uploads.add(Array.from(e.target.files ?? []));
              e.target.value = '';
            }}
          />
        </>
      )}
      <textarea
        id={id}
        ref={ref}
        rows={1}
        value={text}
        disabled={disabled}
        placeholder={disabled ? 'This channel is archived' : `${label}…`}
        title="Enter sends, Shift+Enter starts a new line, @ mentions a member"
        aria-label={label}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? `${listId}-${current}` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          setCaret(e.target.selectionStart ?? e.target.value.length);
          setActive(0);
          if (e.target.value.trim()) chat.client.realtime.startTyping(channelId);
        }}
        onSelect={(e) => setCaret(e.currentTarget.selectionStart ?? 0)}
        onKeyDown={onKeyDown}
        onPaste={(e) => {
          const files = uploads && !disabled ? filesOf(e.clipboardData) : [];
          if (!files.length) return;
          e.preventDefault();
          uploads!.add(files);
        }}
        onBlur={() => chat.client.realtime.stopTyping(channelId)}
      />
      <button type="submit" disabled={!canSend} aria-label="Send message" title={uploads?.busy ? 'Waiting for the uploads' : undefined}>
        Send
      </button>
    </form>
  );
}
