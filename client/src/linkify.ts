/** A message body cut into plain text and safe http(s) links, for rendering as nodes. */
export type Segment = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

const URL_LIKE = /\bhttps?:\/\/[^\s<>"']+/gi;
// Punctuation that usually ends the sentence around a link rather than the link itself.
const TRAILING = /[.,;:!?)\]}]+$/;

export function linkify(body: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_LIKE)) {
    const raw = match[0].replace(TRAILING, "");
    const start = match.index;
    const href = safeHref(raw);
    if (!href) continue;
    if (start > last) segments.push({ kind: "text", text: body.slice(last, start) });
    segments.push({ kind: "link", text: raw, href });
    last = start + raw.length;
  }
  if (last < body.length) segments.push({ kind: "text", text: body.slice(last) });
  return segments;
}

function safeHref(raw: string): string | null {
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}
