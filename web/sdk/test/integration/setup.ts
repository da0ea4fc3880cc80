// Shared by the integration tests: a real parley server and signed-in clients talking to it.
import { WebSocket } from 'ws';
import { ParleyClient, type ParleyClientOptions } from '../../src/client.js';
import { refreshTokenProvider } from '../../src/tokens.js';
import { ParleyProcess } from '../../../testing/parley-server.js';

export { ParleyProcess, waitFor } from '../../../testing/parley-server.js';

/** A client for a demo user (alice, bob, carol) that refreshes its token with the refresh token. */
export async function signIn(server: ParleyProcess, user: string, opts: Partial<ParleyClientOptions> = {}): Promise<ParleyClient> {
  const baseUrl = server.baseUrl;
  const pair = await new ParleyClient({ baseUrl }).demoSession(user);
  return new ParleyClient({
    baseUrl,
    token: pair.access_token,
    tokenProvider: refreshTokenProvider({ baseUrl, refreshToken: pair.refresh_token }),
    WebSocket,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1000 },
    ...opts,
  });
}

/** The demo channel "general" (alice, bob and carol are members). */
export async function general(client: ParleyClient): Promise<string> {
  const { items } = await client.listChannels();
  const ch = items.find((c) => c.name === 'general');
  if (!ch) throw new Error('no general channel');
  return ch.id;
}
