import { useEffect, useId, useRef, useState } from 'react';

interface Props {
  secret: string;
  rotated: boolean;
  /** Until when the previous secret still signs too (after a rotation with an overlap). */
  previousUntil?: string | null;
  onDismiss: () => void;
  /** What the secret is called, the input's label (default "Signing secret"; "New …" after a rotation). */
  name?: string;
  /** Who checks it (default "the receiver"). */
  checker?: string;
}

/**
 * A signing secret (an endpoint's or the before-send hook's), answered once by create and rotate:
 * shown until dismissed, never again.
 */
export function SecretNotice({ secret, rotated, previousUntil, onDismiss, name = 'Signing secret', checker = 'the receiver' }: Props) {
  const [copied, setCopied] = useState<string>();
  const id = useId();
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
    <section className="secret-box" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{rotated ? `New ${name.charAt(0).toLowerCase()}${name.slice(1)}` : name}</h3>
      <p>
        Shown only now: give it to {checker}, which checks every request&apos;s signature with it.
        {rotated &&
          (previousUntil
            ? ` The previous secret keeps signing too until ${new Date(previousUntil).toLocaleString()}.`
            : ' The previous secret no longer signs.')}
      </p>
      <div className="field">
        <label htmlFor={`${id}-secret`}>{name}</label>
        <div className="secret-row">
          <input id={`${id}-secret`} ref={input} readOnly value={secret} spellCheck={false} onFocus={(e) => e.target.select()} />
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
