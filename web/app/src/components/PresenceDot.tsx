import { useStore, type Chat } from '../chat';

/** A green (online) or hollow (offline) dot; `decorative` when the text says it already. */
export function PresenceDot({ chat, userId, decorative }: { chat: Chat; userId: string; decorative?: boolean }) {
  const online = useStore(chat.presence).online[userId] === true;
  const label = online ? 'online' : 'offline';
  return decorative ? (
    <span className={`dot ${label}`} aria-hidden="true" />
  ) : (
    <span className={`dot ${label}`} role="img" aria-label={label} title={online ? 'Online' : 'Offline'} />
  );
}
