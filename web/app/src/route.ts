// Client-side routes: `/` (channel list) and `/c/<channel id>`; the server answers both with
// the app (SPA fallback).
import { useEffect, useState } from 'react';

export function channelFromPath(path = location.pathname): string | undefined {
  const m = /^\/c\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

export function navigate(path: string): void {
  if (location.pathname === path) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function useChannelRoute(): string | undefined {
  const [channel, setChannel] = useState(channelFromPath);
  useEffect(() => {
    const on = () => setChannel(channelFromPath());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return channel;
}
