/**
 * The console's Clients page: the applications that get tokens from the tenant, created from a
 * type an admin recognises (a machine client, a web app, a single-page or mobile app, a staff app
 * with the password grant). A secret is shown exactly once, on the answer to the creation or the
 * rotation (never a page a reload or the history can show again: the answer to a POST, not
 * stored), with a copy button and a warning.
 */
import { AppError } from '../errors.ts';
import { EMPTY, html, type SafeHtml } from '../oidc/interactions/views.ts';
import { alertOf, changes, checks, confirmed, csrfField, deleteSection, done, everything, input, lines, listOf, refusal, refusalText } from './forms.ts';
import type { ClientView } from '../services/clients.ts';
import type { PageOf } from '../services/page.ts';
import type { ConsoleRequest } from './types.ts';

/** a form whose answer showed a secret, sent again (a reload): it does nothing */
const ALREADY_SENT = 'This form was already sent (the page was reloaded?): nothing was done again. The secret it showed is not shown again.';

/** the kinds of client the console creates, and what each means for the admin API */
export const CLIENT_TYPES = {
  machine: {
    label: 'Machine client',
    hint: 'A nightly job or a partner’s server: client credentials, with a secret; its tokens carry the roles you pick.',
    grantTypes: ['client_credentials'],
    public: false,
  },
  web: {
    label: 'Web app with a server',
    hint: 'Users sign in through this sign-in page (authorization code + PKCE); the server keeps a secret.',
    grantTypes: ['authorization_code', 'refresh_token'],
    public: false,
  },
  spa: {
    label: 'Single-page or mobile app',
    hint: 'Users sign in through this sign-in page (authorization code + PKCE); no secret, it could not be kept.',
    grantTypes: ['authorization_code', 'refresh_token'],
    public: true,
  },
  staff: {
    label: 'Staff app with the password grant',
    hint: 'A trusted in-house tool that sends the staff member’s username and password (and second factor); with a secret.',
    grantTypes: ['password', 'refresh_token'],
    public: false,
  },
} as const;
type ClientType = keyof typeof CLIENT_TYPES;

const typeOf = (c: ClientView): string => {
  if (c.grantTypes.includes('client_credentials')) return CLIENT_TYPES.machine.label;
  if (c.grantTypes.includes('authorization_code')) return c.tokenEndpointAuthMethod === 'none' ? CLIENT_TYPES.spa.label : CLIENT_TYPES.web.label;
  if (c.grantTypes.includes('password')) return CLIENT_TYPES.staff.label;
  return c.grantTypes.join(', ');
};

async function catalog(r: ConsoleRequest) {
  const [resources, roles] = await Promise.all([
    everything<{ audience: string; name: string }>(r, 'resource.list'),
    everything<{ name: string }>(r, 'role.list'),
  ]);
  return { resources, roles: roles.map((x) => x.name) };
}

function apiSelect(resources: { audience: string; name: string }[], selected: string | null | undefined, error?: string): SafeHtml {
  return html`<label for="client-api">Default API</label><p class="hint" id="client-api-hint">The API its tokens are for when a request names none.</p>
<select id="client-api" name="defaultResource" aria-describedby="client-api-hint"><option value="">None</option>${resources.map(
    (x) => html`<option value="${x.audience}"${x.audience === selected ? html` selected` : EMPTY}>${x.name} (${x.audience})</option>`,
  )}</select>${error ? html`<p class="field-error">${error}</p>` : EMPTY}`;
}

/** the secret, once: a read-only field, a copy button (the page's only script), a warning */
function secretShown(r: ConsoleRequest, o: { title: string; clientId: string; secret: string; note: string }) {
  r.send(
    {
      title: o.title,
      script: true,
      content: html`<div class="alert warning" role="alert">Copy the secret now: it is shown only this once. Tessera keeps only a keyed hash of it.</div>
<p class="lead">${o.note}</p>
<label for="client-id">Client ID</label><input type="text" id="client-id" value="${o.clientId}" readonly>
<label for="client-secret">Client secret</label><div class="inline"><input type="text" id="client-secret" value="${o.secret}" readonly><button type="button" class="secondary" data-copy="client-secret" hidden>Copy secret</button></div>
<p><a href="${r.home}/clients/${encodeURIComponent(o.clientId)}">I have stored the secret: go to the client</a></p>`,
    },
    201,
  );
}

export async function clientsPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  let errors = new Map<string, string>();
  let general: string | undefined;
  const chosen = (form?.get('type') ?? 'machine') as ClientType;
  if (form) {
    const type = Object.hasOwn(CLIENT_TYPES, chosen) ? CLIENT_TYPES[chosen] : undefined;
    try {
      if (!type) throw Object.assign(new Error('type'), { field: true });
      if (!(await r.once.use(form.get('once')))) throw new AppError('conflict', ALREADY_SENT);
      const redirectUris = listOf(form.get('redirectUris'));
      const created = (await r.call('client.create', {
        body: {
          name: form.get('name') ?? '',
          grantTypes: [...type.grantTypes],
          ...(chosen === 'machine' ? { roles: form.getAll('roles') } : {}),
          ...(form.get('defaultResource') ? { defaultResource: form.get('defaultResource') } : {}),
          ...(chosen === 'web' || chosen === 'spa' ? { redirectUris } : {}),
          ...(type.public ? { tokenEndpointAuthMethod: 'none' } : {}),
        },
      })) as { clientId: string; clientSecret?: string };
      if (!created.clientSecret) return done(r, `${home}/clients/${encodeURIComponent(created.clientId)}`, 'client-created');
      return secretShown(r, {
        title: 'Client created',
        clientId: created.clientId,
        secret: created.clientSecret,
        note: `${form.get('name')} can now get tokens.`,
      });
    } catch (err) {
      if (err instanceof Error && 'field' in err) errors = new Map([['type', 'Choose a type of client.']]);
      else ({ errors, general } = refusal(err));
    }
  }
  const cursor = typeof r.ctx.query.cursor === 'string' ? r.ctx.query.cursor : undefined;
  const [clients, { resources, roles }] = await Promise.all([
    r.call('client.list', { query: { limit: '50', ...(cursor ? { cursor } : {}) } }) as Promise<PageOf<ClientView>>,
    catalog(r),
  ]);
  r.send(
    {
      title: 'Clients',
      content: html`<div class="table-wrap"><table><caption class="visually-hidden">Clients</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Client ID</th><th scope="col">Type</th><th scope="col">Default API</th><th scope="col">Status</th></tr></thead>
<tbody>${clients.items.map(
        (c) =>
          html`<tr><td><a href="${home}/clients/${encodeURIComponent(c.clientId)}">${c.name}</a></td><td><code>${c.clientId}</code></td><td>${typeOf(c)}${c.builtIn ? ' (built in)' : ''}</td><td>${c.defaultResource ?? ''}</td><td>${c.disabled ? 'Disabled' : 'Active'}</td></tr>`,
      )}</tbody></table></div>
${clients.nextCursor ? html`<p><a href="${home}/clients?cursor=${clients.nextCursor}">Next page</a></p>` : EMPTY}
<section class="section" aria-labelledby="create-client"><h2 id="create-client">Create a client</h2>
<form method="post" action="${home}/clients" novalidate>${csrfField(r)}<input type="hidden" name="once" value="${r.once.issue()}">${alertOf(general)}
<fieldset class="checks"><legend>Type</legend>${(Object.keys(CLIENT_TYPES) as ClientType[]).map(
        (k) =>
          html`<label class="check"><input type="radio" name="type" value="${k}"${k === chosen ? html` checked` : EMPTY} aria-describedby="type-${k}-hint"> ${CLIENT_TYPES[k].label}</label><p class="hint radio-hint" id="type-${k}-hint">${CLIENT_TYPES[k].hint}</p>`,
      )}</fieldset>${errors.has('type') ? html`<p class="field-error">${errors.get('type')}</p>` : EMPTY}
${input({ id: 'client-name', name: 'name', label: 'Name', value: form?.get('name') ?? '', required: true, error: errors.get('name') })}
${apiSelect(resources, form?.get('defaultResource'), errors.get('defaultResource'))}
${lines({ id: 'client-redirects', name: 'redirectUris', label: 'Redirect URIs', hint: 'Web and single-page apps: one per line, exactly as the app sends them.', value: form?.get('redirectUris') ?? '', error: errors.get('redirectUris') ?? errors.get('grantTypes') })}
${checks({ legend: 'Roles of a machine client’s tokens', name: 'roles', values: roles, checked: new Set(form?.getAll('roles') ?? []), error: errors.get('roles') })}
<button type="submit" class="primary">Create client</button></form></section>`,
    },
    form ? 400 : 200,
  );
}

export async function clientPage(r: ConsoleRequest, clientId: string, action: string | undefined, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  const base = `${home}/clients/${encodeURIComponent(clientId)}`;
  const alerts: Record<string, string> = {};
  if (form && action) {
    try {
      if (action === 'secret') {
        if (!(await r.once.use(form.get('once')))) throw new AppError('conflict', ALREADY_SENT);
        const rotated = (await r.call('client.rotate_secret', { params: { clientId } })) as { clientSecret: string; previousSecretExpiresAt: string };
        return secretShown(r, {
          title: 'New client secret',
          clientId,
          secret: rotated.clientSecret,
          note: `The previous secret keeps working until ${rotated.previousSecretExpiresAt.slice(0, 16).replace('T', ' ')} UTC, so the app can be given the new one without downtime.`,
        });
      }
      if (action === 'state') {
        const disabled = form.get('disabled') === 'true';
        await r.call('client.update', { params: { clientId }, body: { disabled } });
        return done(r, base, disabled ? 'client-disabled' : 'client-enabled');
      }
      if (action === 'delete') {
        const current = (await r.call('client.read', { params: { clientId } })) as ClientView;
        confirmed(form, current.name);
        await r.call('client.delete', { params: { clientId } });
        return done(r, `${home}/clients`, 'client-deleted');
      }
      const current = (await r.call('client.read', { params: { clientId } })) as ClientView;
      const limit = form.get('rateLimitPerHour')?.trim() ?? '';
      const body = changes(current as unknown as Record<string, unknown>, {
        name: form.get('name') ?? '',
        defaultResource: form.get('defaultResource') || null,
        rateLimitPerHour: limit === '' ? null : /^\d+$/.test(limit) ? Number(limit) : limit,
        ...(current.grantTypes.includes('authorization_code') ? { redirectUris: listOf(form.get('redirectUris')) } : {}),
        ...(current.grantTypes.includes('client_credentials') ? { roles: form.getAll('roles') } : {}),
      });
      if (Object.keys(body).length) await r.call('client.update', { params: { clientId }, body });
      return done(r, base, 'client-saved');
    } catch (err) {
      alerts[action] = refusalText(err);
    }
  }
  const [c, { resources, roles }] = await Promise.all([r.call('client.read', { params: { clientId } }) as Promise<ClientView>, catalog(r)]);
  const code = c.grantTypes.includes('authorization_code');
  const machine = c.grantTypes.includes('client_credentials');
  r.send(
    {
      title: c.name,
      content: html`<p class="lead"><a href="${home}/clients">← All clients</a></p>
<dl class="facts"><dt>Client ID</dt><dd><code>${c.clientId}</code></dd><dt>Type</dt><dd>${typeOf(c)}</dd><dt>Grants</dt><dd>${c.grantTypes.join(', ')}</dd>
<dt>Secret</dt><dd>${c.tokenEndpointAuthMethod === 'none' ? 'none (public client)' : 'set (never shown again)'}</dd><dt>Status</dt><dd>${c.disabled ? 'Disabled' : 'Active'}</dd></dl>
${c.builtIn ? html`<p class="hint">A built-in client: only a platform admin may change it.</p>` : EMPTY}
${c.tokenEndpointAuthMethod === 'none' ? alertOf(alerts.secret) : EMPTY}
<section class="section" aria-labelledby="edit-title"><h2 id="edit-title">Settings</h2>
<form method="post" action="${base}/edit" novalidate>${csrfField(r)}${alertOf(alerts.edit)}
${input({ id: 'edit-name', name: 'name', label: 'Name', value: c.name, required: true })}
${apiSelect(resources, c.defaultResource)}
${code ? lines({ id: 'edit-redirects', name: 'redirectUris', label: 'Redirect URIs', hint: 'One per line, exactly as the app sends them.', value: c.redirectUris.join('\n') }) : EMPTY}
${machine ? checks({ legend: 'Roles of its tokens', name: 'roles', values: roles, checked: new Set(c.roles) }) : EMPTY}
${input({ id: 'edit-rate', name: 'rateLimitPerHour', label: 'Token requests per hour', hint: 'Its own rate limit; empty: the server’s default.', value: c.rateLimitPerHour === null ? '' : String(c.rateLimitPerHour) })}
<button type="submit" class="secondary">Save</button></form></section>
${
  c.tokenEndpointAuthMethod === 'none'
    ? EMPTY
    : html`<section class="section" aria-labelledby="secret-title"><h2 id="secret-title">Rotate the secret</h2>
<form method="post" action="${base}/secret">${csrfField(r)}<input type="hidden" name="once" value="${r.once.issue()}">${alertOf(alerts.secret)}
<p class="hint">A new secret is shown once. The current one keeps working for a grace period (24 hours by default), so the app can switch without downtime; after that only the new one works.</p>
<button type="submit" class="secondary">Rotate secret</button></form></section>`
}
<section class="section" aria-labelledby="state-title"><h2 id="state-title">Access</h2>
<form method="post" action="${base}/state">${csrfField(r)}${alertOf(alerts.state)}<input type="hidden" name="disabled" value="${c.disabled ? 'false' : 'true'}">
<p class="hint">${c.disabled ? 'The client cannot get tokens.' : 'Disabling stops new tokens at once; its refresh tokens stop working.'}</p>
<button type="submit" class="secondary">${c.disabled ? 'Enable client' : 'Disable client'}</button></form></section>
${deleteSection(r, { action: `${base}/delete`, what: 'client', name: c.name, error: alerts.delete, consequence: 'The client can no longer get or refresh tokens.' })}`,
    },
    Object.keys(alerts).length ? 400 : 200,
  );
}
