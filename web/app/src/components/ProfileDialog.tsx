import type { ParleyError } from '@parley/client';
import { useEffect, useRef, useState } from 'react';
import { useStore, type Chat } from '../chat';
import { uploadError } from '../uploads';
import { Avatar } from './Avatar';

/**
 * The signed-in user's profile: their picture, and a new one uploaded (purpose `avatar`) and
 * set with PATCH /v1/users/me {image_file_id}. Escape closes it, wherever the focus is (the
 * picture button is disabled while an upload runs, which drops its focus).
 */
export function ProfileDialog({ chat, onClose }: { chat: Chat; onClose: () => void }) {
  useStore(chat.users);
  const [progress, setProgress] = useState<number>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState(false);
  const abort = useRef<AbortController>();
  const picker = useRef<HTMLInputElement>(null);
  const ref = useRef<HTMLDivElement>(null);
  const change = useRef<HTMLButtonElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const opener = useRef<Element | null>(document.activeElement);
  const uploading = progress !== undefined;
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('button')?.focus();
    const back = opener.current;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close.current();
    };
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('keydown', onKey);
      abort.current?.abort();
      (back as HTMLElement | null)?.focus?.();
    };
  }, []);

  // The focus follows the one enabled button: Cancel while uploading, then the picture button.
  useEffect(() => {
    const inside = ref.current?.contains(document.activeElement) && document.activeElement !== document.body;
    if (uploading) cancel.current?.focus();
    else if (!inside) change.current?.focus();
  }, [uploading]);

  async function upload(file: File) {
    abort.current?.abort();
    const ctl = (abort.current = new AbortController());
    setError(undefined);
    setDone(false);
    setProgress(0);
    try {
      const f = await chat.client.uploadFile(file, {
        purpose: 'avatar',
        signal: ctl.signal,
        onProgress: (p) => setProgress(p.total ? p.loaded / p.total : 0),
      });
      if (!f.image) throw new Error('That file is not an image Parley can read.');
      chat.users.upsert(await chat.client.setAvatar(f.id));
      setDone(true);
    } catch (e) {
      if ((e as ParleyError).code !== 'aborted') setError((e as ParleyError).code ? uploadError(e as ParleyError) : (e as Error).message);
    } finally {
      if (abort.current === ctl) setProgress(undefined);
    }
  }

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="dialog profile" role="dialog" aria-modal="true" aria-labelledby="profile-title" ref={ref}>
        <header className="dialog-head">
          <h2 id="profile-title">Your profile</h2>
          <button type="button" className="icon" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </header>
        <div className="profile-body">
          <Avatar chat={chat} userId={chat.me} size={96} />
          <div className="profile-info">
            <p className="profile-name">{chat.users.name(chat.me)}</p>
            <p className="muted">@{chat.me}</p>
            <input
              ref={picker}
              type="file"
              accept="image/*"
              hidden
              aria-hidden="true"
              tabIndex={-1}
              data-testid="avatar-input"
              onChange={(e) => {
                const f = e.target.files?.[0];
                e.target.value = '';
                if (f) void upload(f);
              }}
            />
            <div className="profile-actions">
              <button type="button" ref={change} className="primary" disabled={uploading} onClick={() => picker.current?.click()}>
                Change picture
              </button>
              {uploading && (
                <button type="button" ref={cancel} onClick={() => abort.current?.abort()}>
                  Cancel
                </button>
              )}
            </div>
            {uploading && <progress className="upload-progress" max={1} value={progress} aria-label="Uploading the picture" />}
            {done && (
              <p className="muted" role="status">
                Picture updated.
              </p>
            )}
            {error && (
              <p className="error" role="alert">
                {error}
              </p>
            )}
          </div>
        </div>
      </div>
    </div>
  );
}
