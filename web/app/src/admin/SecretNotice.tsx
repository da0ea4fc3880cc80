import { useEffect, useRef, useState } from 'react';

interface Props {
  secret: string;
  rotated: boolean;
  /** Until when the previous secret still signs too (after a rotation with an overlap). */
  previousUntil?: string | null;
  onDismiss: () => void;
}

/** An endpoint's signing secret, answered once by create and rotate: shown until dismissed, never again. */
export function SecretNotice({ secret, rotated, previousUntil, onDismiss }: Props) {
  const [copied, setCopied] = useState<string>();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, [secret]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      input.current?.select();
      setCopied('Copying is not allowed here: the secret is selected, copy it with the keyboard.');
    }
  }

  return (
    <section className="secret-box" aria-labelledby="secret-title">
      <h3 id="secret-title">{rotated ? 'New signing secret' : 'Signing secret'}</h3>
      <p>
        Shown only now: give it to the receiver, which checks every request&apos;s signature with it.
        {rotated &&
          (previousUntil
            ? ` The previous secret keeps signing too until ${new Date(previousUntil).toLocaleString()}.`
            : ' The previous secret no longer signs.')}
      </p>
      <div className="field">
        <label htmlFor="webhook-secret">Signing secret</label>
        <div className="secret-row">
          <input id="webhook-secret" ref={input} readOnly value={secret} spellCheck={false} onFocus={(e) => e.target.select()} />
          <button type="button" onClick={copy}>
            Copy
          </button>
        </div>
      </div>
      <p className="small muted" role="status">
        {copied}
      </p>
      <button type="button" onClick={onDismiss}>
        Done, hide the secret
      </button>
    </section>
  );
}
