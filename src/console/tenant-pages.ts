/**
 * The console's Keys, Settings and (for platform admins) Tenants pages.
 */
import { EMPTY, html } from '../oidc/interactions/views.ts';
import { alertOf, changes, checks, csrfField, done, everything, input, refusal, refusalText } from './forms.ts';
import type { KeyView } from '../services/keys.ts';
import type { PageOf } from '../services/page.ts';
import type { ConsoleRequest } from './types.ts';

interface Tenant {
  slug: string;
  name: string;
  issuer: string;
  signingAlg: string;
  mfa: { require: 'none' | 'all' | 'roles'; roles: string[] };
  createdAt: string;
}

const when = (iso: string | null) => (iso ? `${iso.slice(0, 16).replace('T', ' ')} UTC` : '—');
const STATE_TEXT = { next: 'Published, signs next', active: 'Signs tokens now', retired: 'Published until its tokens expire' } as const;

export async function keysPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  let error: string | undefined;
  if (form) {
    try {
      await r.call('keys.rotate', {});
      return done(r, `${r.home}/keys`, 'keys-rotated');
    } catch (err) {
      error = refusalText(err);
    }
  }
  const keys = ((await r.call('keys.list', {})) as PageOf<KeyView>).items;
  r.send(
    {
      title: 'Keys',
      content: html`<p class="lead">The keys that sign this tenant's tokens, as its JWKS publishes them (<a href="${r.tenant.issuer}/jwks">${r.tenant.issuer}/jwks</a>).</p>
<div class="table-wrap"><table><caption class="visually-hidden">Signing keys</caption>
<thead><tr><th scope="col">Key ID</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Signing since</th><th scope="col">Published until</th></tr></thead>
<tbody>${keys.map((k) => html`<tr><td><code>${k.kid}</code></td><td>${k.alg}</td><td>${STATE_TEXT[k.state] ?? k.state}</td><td>${when(k.createdAt)}</td><td>${when(k.activatedAt)}</td><td>${k.publishedUntil ? when(k.publishedUntil) : k.state === 'retired' ? '—' : 'while in use'}</td></tr>`)}</tbody></table></div>
<section class="section" aria-labelledby="rotate-title"><h2 id="rotate-title">Rotate the signing key</h2>
<form method="post" action="${r.home}/keys">${csrfField(r)}${alertOf(error)}
<p class="hint">The next key, already published for a while, starts signing; a new next key is published. APIs that validate tokens with the JWKS notice nothing: they already know the new key, and the old one stays published until every token it signed has expired. Rotate at once if a key may have leaked.</p>
<button type="submit" class="secondary">Rotate key</button></form></section>`,
    },
    error ? 400 : 200,
  );
}

export async function settingsPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  let errors = new Map<string, string>();
  let general: string | undefined;
  if (form) {
    try {
      const require = form.get('mfaRequire') ?? 'none';
      const current = (await r.call('tenant.read', {})) as Tenant;
      const body = changes(
        { name: current.name, mfa: current.mfa },
        { name: form.get('name') ?? '', mfa: { require, roles: require === 'roles' ? form.getAll('mfaRoles') : [] } },
      );
      if (body.mfa) body.mfa = { require, ...(require === 'roles' ? { roles: form.getAll('mfaRoles') } : {}) };
      if (Object.keys(body).length) await r.call('tenant.update', { body });
      return done(r, `${r.home}/settings`, 'settings-saved');
    } catch (err) {
      ({ errors, general } = refusal(err));
    }
  }
  const [t, roles] = await Promise.all([r.call('tenant.read', {}) as Promise<Tenant>, everything<{ name: string }>(r, 'role.list')]);
  const require = (form?.get('mfaRequire') ?? t.mfa.require) as Tenant['mfa']['require'];
  const options = [
    ['none', 'Nobody is required to use a second factor (users may still set one up)'],
    ['all', 'Every user'],
    ['roles', 'Users holding one of these roles:'],
  ] as const;
  r.send(
    {
      title: 'Settings',
      content: html`<form method="post" action="${r.home}/settings" novalidate>${csrfField(r)}${alertOf(general)}
<dl class="facts"><dt>Identifier</dt><dd><code>${t.slug}</code></dd><dt>Issuer</dt><dd><code>${t.issuer}</code></dd><dt>Signing algorithm</dt><dd>${t.signingAlg}</dd></dl>
${input({ id: 'tenant-name', name: 'name', label: 'Name', value: form?.get('name') ?? t.name, required: true, error: errors.get('name') })}
<fieldset class="checks"><legend>Second factor required at sign-in</legend>${options.map(
        ([v, label]) =>
          html`<label class="check"><input type="radio" name="mfaRequire" value="${v}"${require === v ? html` checked` : EMPTY}> ${label}</label>`,
      )}
${checks({ legend: 'Roles', name: 'mfaRoles', values: roles.map((x) => x.name), checked: new Set(form ? form.getAll('mfaRoles') : t.mfa.roles) })}</fieldset>
${errors.has('mfa') ? html`<p class="field-error">${errors.get('mfa')}</p>` : EMPTY}
<p class="hint">A user the policy covers who has no second factor sets one up at the next browser sign-in, and cannot use the password grant until then.</p>
<button type="submit" class="primary">Save settings</button></form>`,
    },
    form ? 400 : 200,
  );
}

export async function tenantsPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  let errors = new Map<string, string>();
  let general: string | undefined;
  if (form) {
    try {
      const username = form.get('adminUsername')?.trim();
      await r.call('tenant.create', {
        body: {
          slug: form.get('slug')?.trim() ?? '',
          name: form.get('name') ?? '',
          ...(username ? { admin: { username, password: form.get('adminPassword') ?? '' } } : {}),
        },
      });
      return done(r, `${r.home}/tenants`, 'tenant-created');
    } catch (err) {
      ({ errors, general } = refusal(err, (field, message) =>
        field === 'slug'
          ? 'Use 2 to 63 lower-case letters, digits and hyphens, starting with a letter or digit.'
          : field === 'admin'
            ? `First admin: ${message}`
            : message,
      ));
      if (!errors.size && /already exists/.test(general ?? '')) errors.set('slug', 'A tenant with this identifier already exists.');
    }
  }
  const cursor = typeof r.ctx.query.cursor === 'string' ? r.ctx.query.cursor : undefined;
  const tenants = (await r.call('tenant.list', { query: { limit: '50', ...(cursor ? { cursor } : {}) } })) as PageOf<Tenant>;
  r.send(
    {
      title: 'Tenants',
      content: html`<div class="table-wrap"><table><caption class="visually-hidden">Tenants</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Identifier</th><th scope="col">Console</th><th scope="col">Created</th></tr></thead>
<tbody>${tenants.items.map((t) => html`<tr><td>${t.name}</td><td><code>${t.slug}</code></td><td><a href="${new URL(t.issuer).pathname}/console/">Open</a></td><td>${when(t.createdAt)}</td></tr>`)}</tbody></table></div>
${tenants.nextCursor ? html`<p><a href="${r.home}/tenants?cursor=${tenants.nextCursor}">Next page</a></p>` : EMPTY}
<section class="section" aria-labelledby="create-tenant"><h2 id="create-tenant">Create a tenant</h2>
<form method="post" action="${r.home}/tenants" novalidate>${csrfField(r)}${alertOf(general)}
${input({ id: 'tenant-slug', name: 'slug', label: 'Identifier', hint: 'Part of its issuer URL; it cannot change later. E.g. health-b.', value: form?.get('slug') ?? '', required: true, error: errors.get('slug') })}
${input({ id: 'tenant-name', name: 'name', label: 'Name', value: form?.get('name') ?? '', required: true, error: errors.get('name') })}
${input({ id: 'tenant-admin', name: 'adminUsername', label: 'First admin’s username', hint: 'Becomes the tenant’s first tenant admin; they sign in to its console.', value: form?.get('adminUsername') ?? '', error: errors.get('admin') })}
${input({ id: 'tenant-admin-password', name: 'adminPassword', label: 'First admin’s password', type: 'password' })}
<button type="submit" class="primary">Create tenant</button></form></section>`,
    },
    form ? 400 : 200,
  );
}
