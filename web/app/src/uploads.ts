// Files attached in a composer before the message is sent: each uploads at once (so sending is
// quick), shows its progress, and may be cancelled or removed until the message goes.
import type { FilePurpose, ParleyClient, ParleyError, ParleyFile } from '@parley/client';
import { useCallback, useEffect, useRef, useState } from 'react';

/** A message holds at most this many attachments (docs/files.md). */
export const MAX_ATTACHMENTS = 10;

export interface PendingUpload {
  key: string;
  name: string;
  size: number;
  type: string;
  /** 0..1 of the bytes sent. */
  progress: number;
  status: 'uploading' | 'done' | 'failed';
  file?: ParleyFile;
  error?: string;
  /** A local preview of an image (an object URL, revoked on removal). */
  preview?: string;
}

export interface Uploads {
  items: PendingUpload[];
  add(files: File[]): void;
  /** Cancels an upload on its way, or takes a finished one off the message. */
  remove(key: string): void;
  /** After a send: forgets every upload (without deleting the files the message now holds). */
  clear(): void;
  busy: boolean;
  /** The `{file_id}`s to send. */
  attachments: { file_id: string }[];
  /** Why some files were not taken (too many). */
  notice?: string;
}

let nextKey = 0;

export function useUploads(client: ParleyClient, purpose: FilePurpose = 'attachment'): Uploads {
  const [items, setItems] = useState<PendingUpload[]>([]);
  const [notice, setNotice] = useState<string>();
  const aborts = useRef(new Map<string, AbortController>());
  const itemsRef = useRef(items);
  itemsRef.current = items;

  const patch = useCallback((key: string, p: Partial<PendingUpload>) => {
    setItems((all) => all.map((u) => (u.key === key ? { ...u, ...p } : u)));
  }, []);

  // Leaving the view cancels what is still on its way.
  useEffect(() => {
    const running = aborts.current;
    return () => {
      running.forEach((a) => a.abort());
      itemsRef.current.forEach((u) => u.preview && URL.revokeObjectURL(u.preview));
    };
  }, []);

  const add = useCallback(
    (files: File[]) => {
      const room = MAX_ATTACHMENTS - itemsRef.current.length;
      setNotice(files.length > room ? `A message holds at most ${MAX_ATTACHMENTS} files.` : undefined);
      for (const f of files.slice(0, Math.max(0, room))) {
        const key = `u${++nextKey}`;
        const abort = new AbortController();
        aborts.current.set(key, abort);
        const preview = /^image\/(png|jpeg|gif|webp|avif)$/.test(f.type) ? URL.createObjectURL(f) : undefined;
        setItems((all) => [...all, { key, name: f.name || 'file', size: f.size, type: f.type, progress: 0, status: 'uploading', preview }]);
        client
          .uploadFile(f, {
            purpose,
            signal: abort.signal,
            onProgress: (p) => patch(key, { progress: p.total ? p.loaded / p.total : 0 }),
          })
          .then(
            (file) => patch(key, { status: 'done', progress: 1, file }),
            (e: ParleyError) => {
              if (e.code !== 'aborted') patch(key, { status: 'failed', error: uploadError(e) });
            },
          )
          .finally(() => aborts.current.delete(key));
      }
    },
    [client, purpose, patch],
  );

  const remove = useCallback(
    (key: string) => {
      aborts.current.get(key)?.abort();
      const u = itemsRef.current.find((x) => x.key === key);
      if (u?.preview) URL.revokeObjectURL(u.preview);
      // A finished upload no message holds: Parley removes it after the orphan TTL; deleting now frees the quota.
      if (u?.file) void client.deleteFile(u.file.id).catch(() => undefined);
      setItems((all) => all.filter((x) => x.key !== key));
      setNotice(undefined);
    },
    [client],
  );

  const clear = useCallback(() => {
    itemsRef.current.forEach((u) => u.preview && URL.revokeObjectURL(u.preview));
    setItems([]);
    setNotice(undefined);
  }, []);

  return {
    items,
    add,
    remove,
    clear,
    busy: items.some((u) => u.status === 'uploading'),
    attachments: items.filter((u) => u.status === 'done' && u.file).map((u) => ({ file_id: u.file!.id })),
    notice,
  };
}

/** Why an upload was refused, in the user's words. */
export function uploadError(e: ParleyError): string {
  switch (e.code) {
    case 'payload_too_large':
      return 'Too large to upload';
    case 'unsupported_media_type':
      return 'This type of file is not allowed here';
    case 'conflict':
      return e.details.reason === 'quota' ? 'The storage space is full' : e.message;
    case 'validation_failed':
      return e.details.reason === 'image_too_large' ? 'The image is too large' : e.message;
    default:
      return e.message;
  }
}

/** The files of a paste or drop (a pasted screenshot comes as a file named image.png). */
export function filesOf(data: DataTransfer | null): File[] {
  if (!data) return [];
  const files = Array.from(data.files ?? []);
  if (files.length) return files;
  return Array.from(data.items ?? [])
    .filter((i) => i.kind === 'file')
    .map((i) => i.getAsFile())
    .filter((f): f is File => !!f);
}
