import { useCallback, useEffect, useState } from 'react';
import { AdminApp } from './admin/AdminApp';
import { Chat } from './chat';
import { ChatApp } from './components/ChatApp';
import { Login } from './components/Login';
import { useAdminRoute } from './route';
import { clearSession, clientFor, loadSession, signOut, type StoredSession } from './session';

/** `/admin` is the app admin screen (app credentials); every other path is the chat (a user's session). */
export function App() {
  return useAdminRoute() ? <AdminApp /> : <ChatRoot />;
}

function ChatRoot() {
  const [session, setSession] = useState<StoredSession | undefined>(loadSession);
  const [chat, setChat] = useState<Chat>();
  const [notice, setNotice] = useState<string>();

  const lost = useCallback(() => {
    clearSession();
    setSession(undefined);
    setNotice('Your session ended. Pick a user to sign in again.');
  }, []);

  useEffect(() => {
    if (!session) return;
    const c = new Chat(clientFor(session), session.userId, lost);
    setChat(c);
    c.start().catch((e: { status?: number }) => {
      if (e?.status === 401 || e?.status === 403) lost();
    });
    return () => {
      c.dispose();
      setChat(undefined);
    };
  }, [session, lost]);

  if (!session) {
    return (
      <Login
        notice={notice}
        onSignedIn={(s) => {
          setNotice(undefined);
          setSession(s);
        }}
      />
    );
  }
  if (!chat) return null;
  return (
    <ChatApp
      chat={chat}
      onSignOut={async () => {
        await signOut(chat.client);
        history.replaceState(null, '', '/');
        setSession(undefined);
      }}
    />
  );
}
