import {
  blurhashColor,
  describeFileType,
  fileAttachments,
  fitImage,
  formatFileSize,
  isShownImage,
  pickVariant,
  type FileAttachment,
  type Message,
  type ParleyClient,
  type ParleyFile,
} from '@parley/client';
import { useEffect, useRef, useState } from 'react';
import { FileIcon } from './Icons';

// The files of a message: images inline at their final size (the blurhash's colour until they
// load, so nothing jumps), a lightbox on click; other files as cards with a download link.
// A message holds only metadata: the signed URLs come from getFiles (cached, batched across the
// list) and are fetched again shortly before they expire.

const INLINE_MAX_W = 360;
const INLINE_MAX_H = 280;

export function Attachments({ client, message }: { client: ParleyClient; message: Pick<Message, 'attachments'> }) {
  const items = fileAttachments(message);
  const files = useFiles(client, items.map((a) => a.file_id));
  const [open, setOpen] = useState<FileAttachment>();
  if (items.length === 0) return null;
  const images = items.filter(isShownImage);
  const others = items.filter((a) => !isShownImage(a));
  return (
    <div className="attachments">
      {images.length > 0 && (
        <div className="attachment-images">
          {images.map((a) => (
            <InlineImage key={a.file_id} attachment={a} file={files.get(a.file_id)} onOpen={() => setOpen(a)} />
          ))}
        </div>
      )}
      {others.map((a) => (
        <FileCard key={a.file_id} attachment={a} file={files.get(a.file_id)} missing={!!files.done && !files.get(a.file_id)} />
      ))}
      {open && <Lightbox attachment={open} file={files.get(open.file_id)} onClose={() => setOpen(undefined)} />}
    </div>
  );
}

type FileMap = Map<string, ParleyFile> & { done?: boolean };

/** The files of `ids` with URLs, kept fresh: fetched again a minute before the first URL expires. */
function useFiles(client: ParleyClient, ids: string[]): FileMap {
  const key = ids.join(',');
  const [files, setFiles] = useState<FileMap>(() => new Map());
  useEffect(() => {
    if (!key) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      client.getFiles(key.split(',')).then(
        (list) => {
          if (!live) return;
          const m: FileMap = new Map(list.map((f) => [f.id, f]));
          m.done = true;
          setFiles(m);
          const expiries = list.map((f) => (f.url_expires_at ? Date.parse(f.url_expires_at) : Infinity));
          const next = Math.min(...expiries) - 60_000 - Date.now();
          if (Number.isFinite(next)) timer = setTimeout(load, Math.max(5_000, next + 1_000));
        },
        () => {
          if (live) timer = setTimeout(load, 10_000);
        },
      );
    void load();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [client, key]);
  return files;
}

/**
 * The URL to show an image `displayPx` wide on its longest side: the smallest thumbnail that
 * covers it; when none does, the original if the browser can show it, else the largest thumbnail.
 */
function variantUrl(file: ParleyFile | undefined, displayPx: number): string | undefined {
  if (!file) return undefined;
  const ratio = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  const v = pickVariant(
    file.variants.filter((x) => x.url),
    displayPx,
    ratio,
  );
  const covers = v && Math.max(v.width, v.height) >= displayPx * ratio;
  if (!covers && file.url && WEB_IMAGE.test(file.content_type)) return file.url;
  return v?.url ?? file.url ?? undefined;
}

const WEB_IMAGE = /^image\/(jpeg|png|gif|webp|avif)$/;

function InlineImage({ attachment: a, file, onOpen }: { attachment: FileAttachment; file?: ParleyFile; onOpen: () => void }) {
  const { width, height } = fitImage(a.image?.width ?? 0, a.image?.height ?? 0, INLINE_MAX_W, INLINE_MAX_H);
  const [ready, setReady] = useState(false);
  const src = variantUrl(file, Math.max(width, height));
  return (
    <button
      type="button"
      className="attachment-image"
      aria-label={`Open image ${a.name}`}
      style={{ width, height, background: blurhashColor(a.image?.blurhash) ?? 'var(--line)' }}
      onClick={onOpen}
    >
      {src && (
        <img
          src={src}
          alt={a.name}
          width={width}
          height={height}
          decoding="async"
          loading="lazy"
          className={ready ? 'ready' : undefined}
          onLoad={() => setReady(true)}
        />
      )}
    </button>
  );
}

function FileCard({ attachment: a, file, missing }: { attachment: FileAttachment; file?: ParleyFile; missing: boolean }) {
  const type = describeFileType(a.content_type);
  return (
    <article className="attachment-file" aria-label={`File ${a.name}`}>
      <span className="attachment-file-icon" aria-hidden="true">
        <FileIcon />
      </span>
      <div className="attachment-file-body">
        <span className="attachment-file-name">{a.name}</span>
        <span className="muted attachment-file-meta">
          {formatFileSize(a.size)} · {type}
        </span>
      </div>
      {file?.url ? (
        <a className="attachment-download" href={file.url} download={a.name} rel="noopener" aria-label={`Download ${a.name}`}>
          Download
        </a>
      ) : (
        <span className="muted small">{missing ? 'Unavailable' : 'Loading…'}</span>
      )}
    </article>
  );
}

/** The image large, over everything; Escape, the close button or a click beside it closes it. */
function Lightbox({ attachment: a, file, onClose }: { attachment: FileAttachment; file?: ParleyFile; onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(document.activeElement);
  // The parent hands a new onClose on every render; the effect below must run once.
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    closeRef.current?.focus();
    const back = opener.current;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        close.current();
      }
      // Tab stays inside the lightbox (its link and close button).
      const box = closeRef.current?.closest('[role="dialog"]');
      if (e.key === 'Tab' && box) {
        const focusable = [...box.querySelectorAll<HTMLElement>('a[href], button')];
        const at = focusable.indexOf(document.activeElement as HTMLElement);
        const next = (at + (e.shiftKey ? focusable.length - 1 : 1)) % focusable.length;
        e.preventDefault();
        focusable[at < 0 ? 0 : next]?.focus();
      }
    };
    document.addEventListener('keydown', onKey, true);
    return () => {
      document.removeEventListener('keydown', onKey, true);
      (back as HTMLElement | null)?.focus?.();
    };
  }, []);
  const box = fitImage(a.image?.width ?? 0, a.image?.height ?? 0, Math.min(1024, window.innerWidth - 48), window.innerHeight - 140);
  const src = variantUrl(file, 1024);
  return (
    <div className="overlay lightbox" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="lightbox-body" role="dialog" aria-modal="true" aria-label={a.name}>
        <header className="lightbox-head">
          <span className="lightbox-name">{a.name}</span>
          <span className="muted">
            {a.image ? `${a.image.width}×${a.image.height} · ` : ''}
            {formatFileSize(a.size)}
          </span>
          {file?.url && (
            <a href={file.url} target="_blank" rel="noopener noreferrer">
              Open original
            </a>
          )}
          <button type="button" ref={closeRef} className="icon" aria-label="Close image" onClick={onClose}>
            ✕
          </button>
        </header>
        {src && <img src={src} alt={a.name} width={box.width} height={box.height} style={{ background: blurhashColor(a.image?.blurhash) }} />}
      </div>
    </div>
  );
}
