import type { LinkPreview } from '@parley/client';
import { useState } from 'react';

// Link preview cards under a message's text. Every field comes from a third party's page (read
// by the server): shown only as text, links only to http(s), images without a Referer and
// dropped when they fail to load.

const LINK_REL = 'noopener noreferrer nofollow';

export function LinkPreviews({ previews }: { previews: LinkPreview[] | undefined }) {
  const shown = (previews ?? []).filter((p) => httpUrl(p.url));
  if (shown.length === 0) return null;
  return (
    <div className="link-previews">
      {shown.map((p, i) => (
        // Keyed by its image too: a new image after an edit gets another chance to load.
        <PreviewCard key={`${i} ${p.url} ${p.image_url ?? ''}`} preview={p} />
      ))}
    </div>
  );
}

function PreviewCard({ preview: p }: { preview: LinkPreview }) {
  const [imageFailed, setImageFailed] = useState(false);
  const image = !imageFailed && p.image_url && httpUrl(p.image_url) ? p.image_url : undefined;
  const site = p.site_name ?? hostOf(p.url);
  const thumbnail = (className: string, alt: string) =>
    image && (
      <img
        className={className}
        src={image}
        alt={alt}
        loading="lazy"
        decoding="async"
        referrerPolicy="no-referrer"
        onError={() => setImageFailed(true)}
      />
    );

  if (!p.title && !p.description) {
    // Only an image (the site name is at least the host): the image, linked to the page.
    if (!image) return null;
    return (
      <figure className="link-preview image-only" aria-label={`Link preview: image from ${site}`}>
        <a href={p.url} target="_blank" rel={LINK_REL}>
          {thumbnail('link-preview-image', `Image from ${site}`)}
        </a>
      </figure>
    );
  }
  const title = p.title ?? shortUrl(p.url);
  return (
    <article className="link-preview" aria-label={`Link preview: ${title}`}>
      <div className="link-preview-body">
        <p className="link-preview-site">{site}</p>
        <a className="link-preview-title" href={p.url} target="_blank" rel={LINK_REL}>
          {title}
        </a>
        {p.description && <p className="link-preview-description">{p.description}</p>}
      </div>
      {/* The title names the page; the thumbnail adds nothing a screen reader needs. */}
      {thumbnail('link-preview-thumb', '')}
    </article>
  );
}

function httpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function hostOf(s: string): string {
  return new URL(s).host;
}

function shortUrl(s: string): string {
  const u = new URL(s);
  return u.host + (u.pathname === '/' ? '' : u.pathname);
}
