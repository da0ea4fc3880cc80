import { MessageCollection, type Message, type MessageListStore, type ParleyError, type PendingMessage } from '@parley/client';
import { useState, type KeyboardEvent, type ReactNode } from 'react';
import type { Chat } from '../chat';
import { Attachments } from './Attachments';
import { BotBadge } from './BotBadge';
import { LinkPreviews } from './LinkPreviews';

export const REACTIONS = ['👍', '❤️', '😂', '🎉', '👀'];

interface Props {
  chat: Chat;
  store: MessageListStore;
  message: Message;
  /** Shown under the user's own latest message. */
  seenBy?: string[];
  /** The message a search hit (or link) pointed at: marked for a moment. */
  highlighted?: boolean;
  onOpenThread?: (seq: number) => void;
  /** Inside the thread panel: no thread link. */
  inThread?: boolean;
  /** Applies a message this view changed (the thread panel keeps its own copy); `since` as for `receive`. */
  onChanged?: (m: Message, since: number) => void;
}

export function MessageItem({ chat, store, message: m, seenBy, highlighted, onOpenThread, inThread, onChanged }: Props) {
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [picking, setPicking] = useState(false);
  const [error, setError] = useState<string>();
  const mine = m.user_id === chat.me;
  const author = chat.users.name(m.user_id);
  const authorLabel = chat.users.isBot(m.user_id) ? `${author} (bot)` : author;
  const deleted = !!m.deleted_at;

  const run = (p: Promise<unknown>) =>
    p.then(
      () => setError(undefined),
      (e: Error) => setError(e.message),
    );

  /**
   * Makes a change over REST and applies the server's copy, in the list and (in a thread) the
   * panel; events that overtook the answer win.
   */
  function change(call: () => Promise<Message>) {
    const since = MessageCollection.stamp;
    return run(
      call().then((updated) => {
        store.receive([updated], since);
        onChanged?.(updated, since);
      }),
    );
  }

  function react(type: string) {
    setPicking(false);
    const { client } = chat;
    const mineAlready = m.own_reactions.includes(type);
    void change(() => (mineAlready ? client.removeReaction(m.channel_id, m.seq, type) : client.addReaction(m.channel_id, m.seq, type)));
  }

  return (
    <li
      className={`message${mine ? ' mine' : ''}${deleted ? ' deleted' : ''}${highlighted ? ' highlighted' : ''}`}
      data-seq={m.seq}
      aria-current={highlighted ? 'true' : undefined}
    >
      <article aria-label={`${authorLabel}, ${time(m.created_at)}`}>
        <header className="message-head">
          <span className="author">{author}</span>
          <BotBadge chat={chat} userId={m.user_id} />
          <time dateTime={m.created_at}>{time(m.created_at)}</time>
          {m.edited_at && !deleted && <span className="edited">(edited)</span>}
        </header>
        {deleted ? (
          <p className="text tombstone">This message was deleted.</p>
        ) : editing ? (
          <EditBox
            initial={m.text}
            allowEmpty={m.attachments.length > 0}
            onCancel={() => setEditing(false)}
            onSave={async (text) => {
              await change(() => chat.client.editMessage(m.channel_id, m.seq, { text }));
              setEditing(false);
            }}
          />
        ) : (
          <>
            {m.text && <p className="text">{renderText(m.text, chat.me)}</p>}
            <Attachments client={chat.client} message={m} />
            <LinkPreviews previews={m.link_previews} />
          </>
        )}
        {!deleted && Object.keys(m.reactions).length > 0 && (
          <div className="reactions" role="group" aria-label="Reactions">
            {Object.entries(m.reactions).map(([type, count]) => (
              <button
                key={type}
                type="button"
                className="reaction"
                aria-pressed={m.own_reactions.includes(type)}
                aria-label={`${type} ${count}`}
                onClick={() => react(type)}
              >
                {type} <span className="count">{count}</span>
              </button>
            ))}
          </div>
        )}
        {!inThread && m.reply_count > 0 && (
          <button type="button" className="link thread-link" onClick={() => onOpenThread?.(m.seq)}>
            {m.reply_count} {m.reply_count === 1 ? 'reply' : 'replies'}
          </button>
        )}
        {!deleted && !editing && (
          <div className="message-actions" role="toolbar" aria-label={`Actions for the message from ${author}`}>
            <button type="button" className="icon" aria-label="Add reaction" aria-expanded={picking} onClick={() => setPicking(!picking)}>
              ☺
            </button>
            {!inThread && (
              <button type="button" className="icon" aria-label="Reply in thread" onClick={() => onOpenThread?.(m.seq)}>
                ↩
              </button>
            )}
            {mine && (
              <button type="button" className="icon" aria-label="Edit message" onClick={() => setEditing(true)}>
                ✎
              </button>
            )}
            {mine && (
              <button type="button" className="icon" aria-label="Delete message" onClick={() => setConfirming(true)}>
                🗑
              </button>
            )}
          </div>
        )}
        {picking && (
          <div className="picker" role="group" aria-label="Pick a reaction">
            {REACTIONS.map((r) => (
              <button key={r} type="button" className="icon" aria-label={`React with ${r}`} onClick={() => react(r)}>
                {r}
              </button>
            ))}
          </div>
        )}
        {confirming && (
          <div className="confirm" role="alertdialog" aria-label="Delete this message?">
            <span>Delete this message?</span>
            <button
              type="button"
              className="danger"
              autoFocus
              onClick={async () => {
                setConfirming(false);
                await run(chat.client.deleteMessage(m.channel_id, m.seq));
              }}
            >
              Delete
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        )}
        {error && (
          <p className="error small" role="alert">
            {error}
          </p>
        )}
        {seenBy && seenBy.length > 0 && (
          <p className="seen-by" aria-live="polite">
            Seen by {seenBy.map((id) => chat.users.name(id)).join(', ')}
          </p>
        )}
      </article>
    </li>
  );
}

/**
 * Why a send failed, for the sender: the app's before-send hook's reason when it rejected the
 * message (403 forbidden with `details.reason`, docs/bots.md), else the API's message.
 */
export function notSentText(error: ParleyError | undefined): string {
  const reason = rejectionReason(error);
  return `Not sent: ${reason ?? error?.message ?? 'the server did not take it'}`;
}

function rejectionReason(error: ParleyError | undefined): string | undefined {
  const reason = error?.code === 'forbidden' ? error.details.reason : undefined;
  return typeof reason === 'string' && reason ? reason : undefined;
}

/**
 * A message of this user not stored yet: sending, or failed with why. A failed one may be sent
 * again, unless the app rejected it (the same text would be rejected again), or discarded.
 */
export function PendingItem({ chat, store, pending: p }: { chat: Chat; store: MessageListStore; pending: PendingMessage }) {
  return (
    <li className={`message mine pending ${p.status}`}>
      <article aria-label={`${chat.users.name(chat.me)}, ${p.status === 'failed' ? 'not sent' : 'sending'}`}>
        <header className="message-head">
          <span className="author">{chat.users.name(chat.me)}</span>
          <span className="muted">{p.status === 'failed' ? 'Not sent' : 'Sending…'}</span>
        </header>
        {p.text && <p className="text">{renderText(p.text, chat.me)}</p>}
        {p.attachments.length > 0 && (
          <p className="muted small">
            {p.attachments.length} {p.attachments.length === 1 ? 'file' : 'files'}
          </p>
        )}
        {p.status === 'failed' && (
          <div className="confirm" role="group" aria-label="Message not sent">
            <span className="error" role="alert">
              {notSentText(p.error)}
            </span>
            {!rejectionReason(p.error) && (
              <button type="button" onClick={() => store.retry(p.client_msg_id).catch(() => undefined)}>
                Retry
              </button>
            )}
            <button type="button" onClick={() => store.discard(p.client_msg_id)}>
              Discard
            </button>
          </div>
        )}
      </article>
    </li>
  );
}

/** `allowEmpty`: the message has attachments, so its text may go. */
function EditBox({ initial, allowEmpty, onSave, onCancel }: { initial: string; allowEmpty?: boolean; onSave: (t: string) => void; onCancel: () => void }) {
  const [text, setText] = useState(initial);
  const ok = allowEmpty || !!text.trim();
  function key(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Escape') onCancel();
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      if (ok) onSave(text);
    }
  }
  return (
    <div className="edit-box">
      <textarea aria-label="Edit message" value={text} autoFocus onChange={(e) => setText(e.target.value)} onKeyDown={key} rows={2} />
      <div className="edit-actions">
        <button type="button" onClick={() => ok && onSave(text)}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}

/** Text with @mentions marked (the current user's stand out). */
export function renderText(text: string, me: string): ReactNode[] {
  const out: ReactNode[] = [];
  const re = /@([A-Za-z0-9_.@-]+)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(
      <span key={m.index} className={`mention${m[1] === me ? ' me' : ''}`}>
        {m[0]}
      </span>,
    );
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

function time(ts: string): string {
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }) : d.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}
