import type { ParleyClient } from '../client.js';
import type { ParleyError } from '../errors.js';
import type { SearchHit, SearchParams, SearchTotal } from '../types.js';
import { Store } from './store.js';

export interface SearchState {
  /** The search shown (without `cursor`); undefined before the first and after `clear()`. */
  params: SearchParams | undefined;
  /** The hits of every page loaded, in the server's order, each message once. */
  hits: SearchHit[];
  /** From the first page; undefined until it arrives. */
  total: SearchTotal | undefined;
  /** Another page exists (`loadMore()`). */
  hasMore: boolean;
  /** The first page of the current search is on its way. */
  loading: boolean;
  loadingMore: boolean;
  /** The last request's failure (e.g. 400 `invalid_request` for a bad query). */
  error?: ParleyError;
}

export interface SearchStoreOptions {
  /** Hits per page, 1..50 (default 20). */
  pageSize?: number;
}

const key = (h: { message: { channel_id: string; seq: number } }) => `${h.message.channel_id}:${h.message.seq}`;

/**
 * A paged message search as a results list shows it. `search(params)` starts over (the
 * request of a search it replaces is aborted and its answer ignored, so typing fast never
 * shows an older query's hits); `loadMore()` appends the next page. Hits follow the
 * realtime: an edited message is replaced (its snippet kept), a deleted one is dropped.
 * Call `dispose()` when done.
 */
export class SearchStore extends Store<SearchState> {
  private readonly pageSize: number;
  private readonly off: () => void;
  private cursor: string | null = null;
  /** Bumped by each new search: answers of older ones are dropped. */
  private generation = 0;
  private abort: AbortController | undefined;
  private more: Promise<void> | undefined;
  private disposed = false;

  constructor(
    private readonly client: ParleyClient,
    opts: SearchStoreOptions = {},
  ) {
    super({ params: undefined, hits: [], total: undefined, hasMore: false, loading: false, loadingMore: false });
    this.pageSize = Math.min(50, Math.max(1, opts.pageSize ?? 20));
    this.off = client.realtime.on('event', (ev) => {
      if (ev.event !== 'message.updated' && ev.event !== 'message.deleted') return;
      const m = ev.data.message;
      const at = this.state.hits.findIndex((h) => h.message.channel_id === ev.channel_id && h.message.seq === m.seq);
      if (at < 0) return;
      const hits = this.state.hits.slice();
      if (ev.event === 'message.deleted' || m.deleted_at) hits.splice(at, 1);
      else hits[at] = { ...hits[at], message: { ...m, own_reactions: hits[at].message.own_reactions } };
      this.setState({ hits });
    });
  }

  dispose(): void {
    this.disposed = true;
    this.abort?.abort();
    this.off();
  }

  /** Starts a new search (its first page); resolves when it is shown or failed (see `error`). */
  async search(params: SearchParams): Promise<void> {
    const { cursor: _ignored, ...base } = params;
    const generation = ++this.generation;
    this.abort?.abort();
    const abort = (this.abort = new AbortController());
    this.more = undefined;
    this.cursor = null;
    this.setState({ params: base, hits: [], total: undefined, hasMore: false, loading: true, loadingMore: false, error: undefined });
    try {
      const page = await this.client.searchMessages({ limit: this.pageSize, ...base }, { signal: abort.signal });
      if (generation !== this.generation || this.disposed) return;
      this.cursor = page.next_cursor;
      this.setState({ hits: dedupe([], page.items), total: page.total, hasMore: !!page.next_cursor, loading: false });
    } catch (e) {
      if (generation !== this.generation || this.disposed) return;
      this.setState({ loading: false, error: e as ParleyError });
    }
  }

  /** Appends the next page (once at a time; nothing when there is none). */
  loadMore(): Promise<void> {
    const params = this.state.params;
    if (!params || !this.cursor || this.state.loading) return Promise.resolve();
    if (this.more) return this.more;
    const generation = this.generation;
    const cursor = this.cursor;
    this.setState({ loadingMore: true, error: undefined });
    this.more = (async () => {
      try {
        const page = await this.client.searchMessages({ limit: this.pageSize, ...params, cursor }, { signal: this.abort?.signal });
        if (generation !== this.generation || this.disposed) return;
        this.cursor = page.next_cursor;
        this.setState({ hits: dedupe(this.state.hits, page.items), hasMore: !!page.next_cursor, loadingMore: false });
      } catch (e) {
        if (generation !== this.generation || this.disposed) return;
        this.setState({ loadingMore: false, error: e as ParleyError });
      } finally {
        if (generation === this.generation) this.more = undefined;
      }
    })();
    return this.more;
  }

  /** Forgets the search (and drops any answer on its way). */
  clear(): void {
    this.generation++;
    this.abort?.abort();
    this.more = undefined;
    this.cursor = null;
    this.setState({ params: undefined, hits: [], total: undefined, hasMore: false, loading: false, loadingMore: false, error: undefined });
  }
}

function dedupe(held: SearchHit[], incoming: SearchHit[]): SearchHit[] {
  const seen = new Set(held.map(key));
  const out = held.slice();
  for (const h of incoming) {
    if (seen.has(key(h))) continue;
    seen.add(key(h));
    out.push(h);
  }
  return out;
}
