/**
 * A tiny template renderer for the server-rendered pages in views/: `{{name}}` is replaced by the
 * value of `name`, HTML-escaped unless it is SafeHtml (markup this module or a trusted caller
 * built). A missing value is a programming error and throws. Templates are read once.
 */
import { readFileSync } from 'node:fs';

const VIEWS = new URL('../../../views/', import.meta.url);

/** markup that is inserted as is (already rendered or escaped) */
export class SafeHtml {
  constructor(readonly html: string) {}
}

export type ViewValue = string | SafeHtml;

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const cache = new Map<string, string>();
function template(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(name, VIEWS), 'utf8');
    cache.set(name, text);
  }
  return text;
}

/** renders views/<name> with `values` */
export function render(name: string, values: Record<string, ViewValue>): SafeHtml {
  const html = template(name).replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    const v = values[key];
    if (v === undefined) throw new Error(`view ${name}: no value for ${key}`);
    return v instanceof SafeHtml ? v.html : escapeHtml(v);
  });
  return new SafeHtml(html);
}

export const EMPTY = new SafeHtml('');
export const join = (parts: SafeHtml[]) => new SafeHtml(parts.map((p) => p.html).join('\n'));

/** the stylesheet, served same-origin so the CSP can stay `style-src 'self'` */
export const stylesheet = () => template('styles.css');

/** the passkey module (views/webauthn.js), served same-origin so the CSP can stay `script-src 'self'` */
export const webauthnScript = () => template('webauthn.js');
