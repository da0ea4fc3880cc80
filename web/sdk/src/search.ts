import type { SearchSnippet } from './types.js';

/** A run of a snippet's text: a match of the query (`match`) or the text between matches. */
export interface SnippetSegment {
  text: string;
  match: boolean;
}

/**
 * Cuts a search snippet into plain-text runs, matches marked, for rendering without HTML
 * (React: `{segments.map(s => s.match ? <mark>{s.text}</mark> : s.text)}`). Offsets are UTF-16
 * code units, as the server sends them. Highlights out of range, empty, unsorted or
 * overlapping are clamped and put in order, so a bad snippet never loses or repeats text.
 */
export function snippetSegments(snippet: SearchSnippet): SnippetSegment[] {
  const { text } = snippet;
  const ranges = (snippet.highlights ?? [])
    .map((h) => ({ start: clamp(h.start, text.length), end: clamp(h.end, text.length) }))
    .filter((h) => h.end > h.start)
    .sort((a, b) => a.start - b.start || a.end - b.end);
  const out: SnippetSegment[] = [];
  let at = 0;
  for (const h of ranges) {
    const start = Math.max(h.start, at);
    if (h.end <= start) continue; // inside the previous match
    if (start > at) out.push({ text: text.slice(at, start), match: false });
    out.push({ text: text.slice(start, h.end), match: true });
    at = h.end;
  }
  if (at < text.length) out.push({ text: text.slice(at), match: false });
  return out;
}

function clamp(n: number, max: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(0, Math.trunc(n))) : 0;
}

/** "57 results", "1 result", "1000+ results" (a capped count is a lower bound). */
export function formatSearchTotal(total: { count: number; exact: boolean }): string {
  const n = `${total.count}${total.exact ? '' : '+'}`;
  return `${n} ${total.count === 1 && total.exact ? 'result' : 'results'}`;
}
