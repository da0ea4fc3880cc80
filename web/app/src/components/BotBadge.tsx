import { useStore, type Chat } from '../chat';

/**
 * "BOT" after the name of a user a program speaks for (docs/bots.md); nothing for anyone else.
 * The word is the badge's text (shown in capitals by the style sheet), so screen readers and
 * copied text get "bot" too. Follows the user directory, so it appears once the user is loaded.
 */
export function BotBadge({ chat, userId }: { chat: Chat; userId: string }) {
  useStore(chat.users);
  if (!chat.users.isBot(userId)) return null;
  // The space keeps "Name bot" two words for screen readers and copying where layout adds none.
  return (
    <>
      {' '}
      <span className="bot-badge" data-testid="bot-badge" title="Bot: a program posts as this user">
        bot
      </span>
    </>
  );
}
