import { useStore, type Chat } from '../chat';

export function TypingIndicator({ chat, channelId, exclude }: { chat: Chat; channelId: string; exclude?: string }) {
  const ids = (useStore(chat.typing).typing[channelId] ?? []).filter((u) => u !== exclude);
  const names = ids.map((u) => chat.users.name(u));
  const text =
    names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : 'Several people are typing…';
  return (
    <div className="typing" aria-live="polite" data-testid="typing">
      {text}
    </div>
  );
}
