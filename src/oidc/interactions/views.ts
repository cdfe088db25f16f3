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

type HtmlValue = ViewValue | number | boolean | null | undefined | readonly HtmlValue[];
const piece = (v: HtmlValue): string =>
  v === null || v === undefined || v === false ? '' : v instanceof SafeHtml ? v.html : Array.isArray(v) ? v.map(piece).join('') : escapeHtml(String(v));

/**
 * Markup written in place, with the renderer's rule: every interpolated value is HTML-escaped
 * unless it is SafeHtml (arrays are joined; null, undefined and false are nothing). For the
 * console's pages, where a template file per table cell would hide more than it shows.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((v, i) => {
    out += piece(v) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}
export const join = (parts: SafeHtml[]) => new SafeHtml(parts.map((p) => p.html).join('\n'));

/** the stylesheet, served same-origin so the CSP can stay `style-src 'self'` */
export const stylesheet = () => template('styles.css');

/** the console's copy button (views/console.js), served same-origin like the passkey module */
export const consoleScript = () => template('console.js');

/** the passkey module (views/webauthn.js), served same-origin so the CSP can stay `script-src 'self'` */
export const webauthnScript = () => template('webauthn.js');
