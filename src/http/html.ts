import { createHash } from 'node:crypto';
import { escapeHtml } from '../lib/html.js';

// What every server-rendered page shares: escaping, the document around a body, and the CSP
// that lets exactly the page's own inline style and script run. The style and script come from
// src/http/client/ (typed, bundled by the build into client-assets.generated.ts).

/** Escapes a value for element content and quoted attribute values (null and undefined as empty). */
export function h(value: string | number | null | undefined): string {
  return value === null || value === undefined ? '' : escapeHtml(String(value));
}

/** A page's inline style and, if it has one, its inline script. */
export interface InlineAssets {
  style: string;
  script?: string;
}

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The Content-Security-Policy of a page whose only style and script are the given inline texts
 * (pinned by hash): nothing else loads or runs, connections and forms stay on this origin.
 */
export function inlineCsp(assets: InlineAssets): string {
  return [
    "default-src 'none'",
    `script-src ${assets.script === undefined ? "'none'" : hash(assets.script)}`,
    `style-src ${hash(assets.style)}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** A whole HTML document: the head with its title and inline style, the body, then the inline script. */
export function htmlDocument(opts: { title: string; assets: InlineAssets; body: string }): string {
  const { style, script } = opts.assets;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${h(opts.title)}</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
${opts.body}
${script === undefined ? '' : `<script>${script}</script>`}
</body>
</html>
`;
}
