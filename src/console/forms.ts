/**
 * What the console's forms share: a refusal of the admin API turned into words at the field that
 * caused it (or for the whole form), labelled inputs that keep what was typed, checkbox groups,
 * the confirmation a destructive action asks for, and the redirect after a change.
 */
import { AppError } from '../errors.ts';
import { EMPTY, html, render, type SafeHtml } from '../oidc/interactions/views.ts';
import type { PageOf } from '../services/page.ts';
import type { ConsoleRequest } from './types.ts';

export interface Refusal {
  /** per field (the first segment of the API's error path) */
  errors: Map<string, string>;
  /** for the whole form */
  general?: string | undefined;
}

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** an admin API refusal as words; anything else (unavailable, not found, a bug) is rethrown */
export function refusal(err: unknown, explain: (field: string, message: string) => string = (_f, m) => m): Refusal {
  if (!(err instanceof AppError) || err.code === 'unavailable' || err.code === 'not_found') throw err;
  const errors = new Map<string, string>();
  for (const e of (err.details?.errors ?? []) as { path: string; message: string }[]) {
    const name = e.path.split('.')[0]!;
    if (!errors.has(name)) errors.set(name, explain(name, e.message));
  }
  return errors.size ? { errors } : { errors, general: sentence(err.message) };
}

/** a refusal in one line, for an alert: the form's message, or the fields' (`named`: each with its field) */
export function refusalText(err: unknown, explain?: (field: string, message: string) => string, named = false): string {
  const { errors, general } = refusal(err, explain);
  return general ?? [...errors.entries()].map(([f, m]) => (named ? `${f}: ${m}` : m)).join(' ');
}

export const alertOf = (message: string | undefined): SafeHtml => (message ? render('alert.html', { message }) : EMPTY);

/** a labelled input; its error (if any) right after it, announced with it */
export function input(o: {
  id: string;
  name: string;
  label: string;
  value?: string | undefined;
  type?: 'text' | 'password' | 'email' | 'url' | 'number';
  required?: boolean;
  hint?: string;
  error?: string | undefined;
  attrs?: SafeHtml;
}): SafeHtml {
  const described = [o.hint ? `${o.id}-hint` : '', o.error ? `${o.id}-error` : ''].filter(Boolean).join(' ');
  return html`<label for="${o.id}">${o.label}</label>${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : EMPTY}<input type="${o.type ?? 'text'}" id="${o.id}" name="${o.name}" value="${o.type === 'password' ? '' : (o.value ?? '')}" autocomplete="off"${o.required ? html` required` : EMPTY}${o.error ? html` aria-invalid="true"` : EMPTY}${described ? html` aria-describedby="${described}"` : EMPTY}${o.attrs ?? EMPTY}>${o.error ? html`<p class="field-error" id="${o.id}-error">${o.error}</p>` : EMPTY}`;
}

/** a labelled textarea (one value per line) */
export function lines(o: { id: string; name: string; label: string; value?: string | undefined; hint?: string; error?: string | undefined }): SafeHtml {
  const described = [o.hint ? `${o.id}-hint` : '', o.error ? `${o.id}-error` : ''].filter(Boolean).join(' ');
  return html`<label for="${o.id}">${o.label}</label>${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : EMPTY}<textarea id="${o.id}" name="${o.name}" rows="3"${o.error ? html` aria-invalid="true"` : EMPTY}${described ? html` aria-describedby="${described}"` : EMPTY}>${o.value ?? ''}</textarea>${o.error ? html`<p class="field-error" id="${o.id}-error">${o.error}</p>` : EMPTY}`;
}

/** one checkbox per value, labelled with it */
export const checkboxes = (name: string, values: readonly string[], checked: ReadonlySet<string>): SafeHtml =>
  html`${values.map((v) => html`<label class="check"><input type="checkbox" name="${name}" value="${v}"${checked.has(v) ? html` checked` : EMPTY}> ${v}</label>`)}`;

/** a fieldset of checkboxes, one per value, labelled with it */
export function checks(o: {
  legend: string;
  name: string;
  values: readonly string[];
  checked: ReadonlySet<string>;
  error?: string | undefined;
  empty?: string;
}): SafeHtml {
  return html`<fieldset class="checks"><legend>${o.legend}</legend>${
    o.values.length ? checkboxes(o.name, o.values, o.checked) : html`<p class="hint">${o.empty ?? 'None yet.'}</p>`
  }</fieldset>${o.error ? html`<p class="field-error">${o.error}</p>` : EMPTY}`;
}

/** a form that replaces a set (a user's roles, a policy's roles) must see all of it */
const EVERYTHING_MAX = 10_000;

/**
 * Every item of a list call, all its pages: a checkbox left off the page would be a value the save
 * removes without a word (found in review: a tenant with over 200 roles lost MFA-required ones).
 */
export async function everything<T>(r: ConsoleRequest, operation: 'role.list' | 'resource.list'): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page = (await r.call(operation, { query: { limit: '200', ...(cursor ? { cursor } : {}) } })) as PageOf<T>;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor && items.length < EVERYTHING_MAX);
  if (cursor) throw new AppError('invalid_request', 'This tenant has too many roles or APIs for the console; use the admin API or the CLI.');
  return items;
}

/**
 * The fields of `next` that differ from `current`: a save sends only what the admin changed, so a
 * field a target may not change (a built-in client's default API, `system`'s MFA policy for a
 * tenant admin) does not refuse an unrelated change (found in review)
 */
export function changes(current: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  return Object.fromEntries(Object.entries(next).filter(([k, v]) => !same(current[k], v)));
}

export const csrfField = (r: ConsoleRequest) => html`<input type="hidden" name="csrf" value="${r.csrf}">`;

/** the section that deletes something once its name is typed again */
export function deleteSection(r: ConsoleRequest, o: { action: string; what: string; name: string; error?: string | undefined; consequence: string }): SafeHtml {
  return html`<section class="section" aria-labelledby="delete-title"><h2 id="delete-title">Delete ${o.what}</h2>
<form method="post" action="${o.action}" novalidate>${csrfField(r)}${alertOf(o.error)}<p class="hint">${o.consequence}</p>
${input({ id: 'delete-confirm', name: 'confirm', label: `Type ${o.name} to confirm` })}
<button type="submit" class="secondary danger">Delete ${o.what}</button></form></section>`;
}

/** checks the typed confirmation of a deletion */
export function confirmed(form: URLSearchParams, name: string): void {
  if (form.get('confirm') !== name) throw new AppError('invalid_request', `Type ${name} exactly to confirm the deletion.`);
}

/** after a change: back to `to` with a fixed notice (see NOTICES) */
export function done(r: ConsoleRequest, to: string, notice: string): void {
  r.ctx.status = 303;
  r.ctx.redirect(`${to}${to.includes('?') ? '&' : '?'}done=${notice}`);
}

/** the non-empty lines (or space- or comma-separated words) of a field */
export const listOf = (value: string | null, split: RegExp = /\r?\n/) =>
  (value ?? '')
    .split(split)
    .map((v) => v.trim())
    .filter(Boolean);
