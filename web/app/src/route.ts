// Client-side routes: `/` (channel list), `/c/<channel id>` and `/admin` (the app admin screen,
// with app credentials); the server answers each with the app (SPA fallback).
import { useEffect, useState, type MouseEvent } from 'react';

export const ADMIN_PATH = '/admin';

export function channelFromPath(path = location.pathname): string | undefined {
  const m = /^\/c\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : undefined;
}

export function isAdminPath(path = location.pathname): boolean {
  return path === ADMIN_PATH || path.startsWith(`${ADMIN_PATH}/`);
}

export function navigate(path: string): void {
  if (location.pathname === path) return;
  history.pushState(null, '', path);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

/** An `<a href>`'s click handler that routes in the page (modified clicks keep the browser's way). */
export function routeLink(path: string) {
  return (e: MouseEvent<HTMLAnchorElement>) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
    e.preventDefault();
    navigate(path);
  };
}

function usePath<T>(read: () => T): T {
  const [value, setValue] = useState(read);
  useEffect(() => {
    const on = () => setValue(read());
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
    // `read` only looks at location: the listener never needs replacing.
  }, []);
  return value;
}

export function useChannelRoute(): string | undefined {
  return usePath(() => channelFromPath());
}

export function useAdminRoute(): boolean {
  return usePath(() => isAdminPath());
}
