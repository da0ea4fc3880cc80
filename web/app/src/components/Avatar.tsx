import { useState } from 'react';
import { useStore, type Chat } from '../chat';

/** A user's picture (their `image_url`), or their initial on a colour when they have none. */
export function Avatar({ chat, userId, size = 32, decorative }: { chat: Chat; userId: string; size?: number; decorative?: boolean }) {
  useStore(chat.users);
  const user = chat.users.getSnapshot().users[userId];
  const [failed, setFailed] = useState<string>();
  const name = chat.users.name(userId);
  const url = user?.image_url && failed !== user.image_url ? user.image_url : undefined;
  const alt = decorative ? '' : `Picture of ${name}`;
  if (url) {
    return <img className="avatar" src={url} alt={alt} width={size} height={size} style={{ width: size, height: size }} onError={() => setFailed(url)} />;
  }
  return (
    <span className="avatar initial" role={decorative ? undefined : 'img'} aria-label={decorative ? undefined : alt} aria-hidden={decorative || undefined} style={{ width: size, height: size, fontSize: size * 0.45 }}>
      {(name[0] ?? '?').toUpperCase()}
    </span>
  );
}
