// Files (docs/files.md): the cache of signed URLs behind `getFiles`, and helpers for showing
// attachments (which variant to load, a placeholder colour, a human-readable size).
import type { FileAttachment, FileImage, FileVariant, JsonObject, Message, ParleyFile } from './types.js';

/** `GET /v1/files?ids=` takes at most this many ids. */
export const FILES_PER_REQUEST = 100;

export interface FileCacheOptions {
  /** A URL counts as expired this long before its `url_expires_at` (default 60 s). */
  refreshBeforeMs?: number;
  /** Files kept at most (default 500; the least recently stored go first). */
  maxEntries?: number;
  now?: () => number;
}

/**
 * Files by id with their signed URLs, as `ParleyClient.getFiles` serves them: a file is fetched
 * again once its URL is about to expire. Ids asked for in the same task (say, every message of a
 * page rendering at once) are merged into requests of at most 100 ids; an id already on its way
 * is not asked for twice. Files the caller may not see are answered as missing (never cached).
 */
export class FileCache {
  private readonly entries = new Map<string, ParleyFile>();
  private readonly inFlight = new Map<string, Promise<ParleyFile | undefined>>();
  private queued: { ids: Set<string>; run: Promise<Map<string, ParleyFile>> } | undefined;
  private readonly refreshBeforeMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly fetchBatch: (ids: string[]) => Promise<ParleyFile[]>,
    opts: FileCacheOptions = {},
  ) {
    this.refreshBeforeMs = opts.refreshBeforeMs ?? 60_000;
    this.maxEntries = opts.maxEntries ?? 500;
    this.now = opts.now ?? Date.now;
  }

  /** The cached copy while its URL is still good. */
  peek(id: string): ParleyFile | undefined {
    const f = this.entries.get(id);
    return f && this.fresh(f) ? f : undefined;
  }

  /** Stores a file from another answer (an upload, `getFile`). */
  put(file: ParleyFile): void {
    if (file.state !== 'ready' || !file.url) return;
    this.entries.delete(file.id);
    this.entries.set(file.id, file);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  forget(id: string): void {
    this.entries.delete(id);
  }

  /** The files in the order of `ids`, each once; those the caller may not see are left out. */
  async get(ids: string[]): Promise<ParleyFile[]> {
    const wanted = [...new Set(ids)];
    const found = await Promise.all(wanted.map((id) => this.one(id)));
    return found.filter((f): f is ParleyFile => f !== undefined);
  }

  private one(id: string): Promise<ParleyFile | undefined> {
    const cached = this.peek(id);
    if (cached) return Promise.resolve(cached);
    const flying = this.inFlight.get(id);
    if (flying) return flying;
    if (!this.queued) {
      const ids = new Set<string>();
      // Runs after the current task: every id asked for until then goes in the same requests.
      const run = new Promise<void>((r) => setTimeout(r, 0)).then(async () => {
        if (this.queued?.ids === ids) this.queued = undefined;
        const all = [...ids];
        const batches: string[][] = [];
        for (let i = 0; i < all.length; i += FILES_PER_REQUEST) batches.push(all.slice(i, i + FILES_PER_REQUEST));
        const files = (await Promise.all(batches.map((b) => this.fetchBatch(b)))).flat();
        const byId = new Map<string, ParleyFile>();
        for (const f of files) {
          this.put(f);
          byId.set(f.id, f);
        }
        return byId;
      });
      this.queued = { ids, run };
    }
    this.queued.ids.add(id);
    const p = this.queued.run.then((m) => m.get(id)).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, p);
    return p;
  }

  private fresh(f: ParleyFile): boolean {
    if (!f.url_expires_at) return true; // a stable URL (avatars, channel images)
    return Date.parse(f.url_expires_at) - this.refreshBeforeMs > this.now();
  }
}

export function isFileAttachment(a: JsonObject | FileAttachment): boolean {
  return a.type === 'file' && typeof a.file_id === 'string';
}

/** The uploaded files among a message's attachments, in their order. */
export function fileAttachments(m: Pick<Message, 'attachments'>): FileAttachment[] {
  return (m.attachments ?? []).filter(isFileAttachment) as unknown as FileAttachment[];
}

/** An image the browser can show: Parley read it (it has `image`) and it has a web type or thumbnails. */
export function isShownImage(f: { content_type: string; image: FileImage | null; variants: { name: string }[] }): boolean {
  return !!f.image && (f.variants.length > 0 || /^image\/(jpeg|png|gif|webp|avif)$/.test(f.content_type));
}

/**
 * The variant to load for an image shown `displayPx` CSS pixels on its longest side: the
 * smallest whose longest side covers it at the screen's pixel ratio, else the largest there is;
 * undefined when the file has none (show the original).
 */
export function pickVariant<V extends Pick<FileVariant, 'name' | 'width' | 'height'>>(variants: V[], displayPx: number, pixelRatio = 1): V | undefined {
  const need = displayPx * pixelRatio;
  const bySide = [...variants].sort((a, b) => Math.max(a.width, a.height) - Math.max(b.width, b.height));
  return bySide.find((v) => Math.max(v.width, v.height) >= need) ?? bySide[bySide.length - 1];
}

/** The size that fits `width`×`height` into `maxWidth`×`maxHeight`, never larger than it is. */
export function fitImage(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  if (!(width > 0 && height > 0)) return { width: maxWidth, height: maxHeight };
  const scale = Math.min(1, maxWidth / width, maxHeight / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

const B83 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~';

/** The average colour of a blurhash (its DC component) as `#rrggbb`; undefined for a malformed one. */
export function blurhashColor(hash: string | null | undefined): string | undefined {
  if (!hash || hash.length < 6) return undefined;
  let v = 0;
  for (const ch of hash.slice(2, 6)) {
    const d = B83.indexOf(ch);
    if (d < 0) return undefined;
    v = v * 83 + d;
  }
  if (v > 0xffffff) return undefined;
  return `#${v.toString(16).padStart(6, '0')}`;
}

/** "0 B", "999 B", "1.2 KB", "18 MB": decimal units, three significant digits at most. */
export function formatFileSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  if (u === 0) return `${bytes} B`;
  const shown = n >= 100 ? Math.round(n).toString() : n >= 10 ? n.toFixed(0) : n.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[u]}`;
}

/** A short name for a content type: "PDF", "PNG image", "ZIP", else the subtype in capitals. */
export function describeFileType(contentType: string): string {
  const [type, sub = ''] = contentType.split(';')[0].trim().toLowerCase().split('/');
  const known: Record<string, string> = {
    'application/pdf': 'PDF',
    'application/zip': 'ZIP archive',
    'text/plain': 'Text',
    'text/csv': 'CSV',
    'application/json': 'JSON',
    'application/octet-stream': 'Binary file',
  };
  const full = `${type}/${sub}`;
  if (known[full]) return known[full];
  const name = sub.replace(/^(x-|vnd\.)/, '').split(/[.+]/)[0].toUpperCase();
  if (type === 'image' || type === 'video' || type === 'audio') return `${name || type} ${type}`;
  return name || 'File';
}
