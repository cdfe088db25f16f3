/**
 * The console's APIs and Roles pages: the tenant's resources (audience, scopes, token lifetime)
 * and its roles, each role a matrix of the APIs × their scopes with a checkbox per pair.
 */
import { EMPTY, html } from '../oidc/interactions/views.ts';
import { alertOf, changes, confirmed, csrfField, deleteSection, done, everything, input, listOf, refusal, refusalText } from './forms.ts';
import type { ResourceRow as Resource } from '../repositories/resources.ts';
import type { RoleView as Role } from '../services/roles.ts';
import type { ConsoleRequest } from './types.ts';

const resources = (r: ConsoleRequest) => everything<Resource>(r, 'resource.list');
const SCOPE_SPLIT = /[\s,]+/;

export async function apisPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  let errors = new Map<string, string>();
  let general: string | undefined;
  if (form) {
    try {
      const ttl = form.get('accessTokenTtl')?.trim();
      const created = (await r.call('resource.create', {
        body: {
          audience: form.get('audience')?.trim() ?? '',
          name: form.get('name') ?? '',
          scopes: listOf(form.get('scopes'), SCOPE_SPLIT),
          ...(ttl ? { accessTokenTtl: /^\d+$/.test(ttl) ? Number(ttl) : ttl } : {}),
        },
      })) as Resource;
      return done(r, `${home}/apis/${created.id}`, 'api-created');
    } catch (err) {
      ({ errors, general } = refusal(err, (field, message) =>
        field === 'audience' ? 'Enter the API’s URL, e.g. https://epi.example.org/api.' : field === 'accessTokenTtl' ? 'Enter a number of seconds.' : message,
      ));
    }
  }
  const list = await resources(r);
  r.send(
    {
      title: 'APIs',
      content: html`<div class="table-wrap"><table><caption class="visually-hidden">APIs</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Audience</th><th scope="col">Scopes</th><th scope="col">Token lifetime</th></tr></thead>
<tbody>${list.map(
        (x) =>
          html`<tr><td><a href="${home}/apis/${x.id}">${x.name}</a>${x.builtIn ? ' (built in)' : ''}</td><td><code>${x.audience}</code></td><td>${x.scopes.join(' ')}</td><td>${x.accessTokenTtl} s</td></tr>`,
      )}</tbody></table></div>
<section class="section" aria-labelledby="create-api"><h2 id="create-api">Add an API</h2>
<form method="post" action="${home}/apis" novalidate>${csrfField(r)}${alertOf(general)}
${input({ id: 'api-audience', name: 'audience', label: 'Audience', hint: 'The API’s URL: its tokens carry it as `aud`; it cannot change later.', value: form?.get('audience') ?? '', required: true, error: errors.get('audience') })}
${input({ id: 'api-name', name: 'name', label: 'Name', value: form?.get('name') ?? '', required: true, error: errors.get('name') })}
${input({ id: 'api-scopes', name: 'scopes', label: 'Scopes', hint: 'Separated by spaces, e.g. outbreaks:read simulate:run.', value: form?.get('scopes') ?? '', error: errors.get('scopes') })}
${input({ id: 'api-ttl', name: 'accessTokenTtl', label: 'Token lifetime (seconds)', hint: 'How long its access tokens live; 3600 when empty.', value: form?.get('accessTokenTtl') ?? '', error: errors.get('accessTokenTtl') })}
<button type="submit" class="primary">Add API</button></form></section>`,
    },
    form ? 400 : 200,
  );
}

export async function apiPage(r: ConsoleRequest, id: string, action: string | undefined, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  const base = `${home}/apis/${id}`;
  let alert: { where: string; message: string } | undefined;
  if (form && action) {
    try {
      if (action === 'delete') {
        const current = (await r.call('resource.read', { params: { id } })) as Resource;
        confirmed(form, current.name);
        await r.call('resource.delete', { params: { id } });
        return done(r, `${home}/apis`, 'api-deleted');
      }
      const ttl = form.get('accessTokenTtl')?.trim() ?? '';
      const current = (await r.call('resource.read', { params: { id } })) as Resource;
      const body = changes(current as unknown as Record<string, unknown>, {
        name: form.get('name') ?? '',
        scopes: listOf(form.get('scopes'), SCOPE_SPLIT),
        accessTokenTtl: /^\d+$/.test(ttl) ? Number(ttl) : ttl,
      });
      if (Object.keys(body).length) await r.call('resource.update', { params: { id }, body });
      return done(r, base, 'api-saved');
    } catch (err) {
      alert = { where: action, message: refusalText(err, undefined, true) };
    }
  }
  const x = (await r.call('resource.read', { params: { id } })) as Resource;
  r.send(
    {
      title: x.name,
      content: html`<p class="lead"><a href="${home}/apis">← All APIs</a></p>
<dl class="facts"><dt>Audience</dt><dd><code>${x.audience}</code></dd></dl>
${x.builtIn ? html`<p class="hint">The built-in admin API: it cannot be changed.</p>` : EMPTY}
<section class="section" aria-labelledby="edit-title"><h2 id="edit-title">Settings</h2>
<form method="post" action="${base}/edit" novalidate>${csrfField(r)}${alertOf(alert?.where === 'edit' ? alert.message : undefined)}
${input({ id: 'api-name', name: 'name', label: 'Name', value: x.name, required: true })}
${input({ id: 'api-scopes', name: 'scopes', label: 'Scopes', hint: 'Separated by spaces. A scope removed here is removed from every role.', value: x.scopes.join(' ') })}
${input({ id: 'api-ttl', name: 'accessTokenTtl', label: 'Token lifetime (seconds)', value: String(x.accessTokenTtl) })}
<button type="submit" class="secondary">Save</button></form></section>
${deleteSection(r, { action: `${base}/delete`, what: 'API', name: x.name, error: alert?.where === 'delete' ? alert.message : undefined, consequence: 'Roles lose their permissions on it; tokens already issued for it stay valid until they expire.' })}`,
    },
    alert ? 400 : 200,
  );
}

export async function rolesPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  let errors = new Map<string, string>();
  let general: string | undefined;
  if (form) {
    try {
      const description = form.get('description')?.trim();
      await r.call('role.create', { body: { name: form.get('name')?.trim() ?? '', permissions: [], ...(description ? { description } : {}) } });
      return done(r, `${home}/roles/${encodeURIComponent(form.get('name')!.trim())}`, 'role-created');
    } catch (err) {
      ({ errors, general } = refusal(err));
      if (!errors.size && /already exists|taken/.test(general ?? '')) errors.set('name', 'A role with this name already exists.');
    }
  }
  const roles = await everything<Role>(r, 'role.list');
  r.send(
    {
      title: 'Roles',
      content: html`<div class="table-wrap"><table><caption class="visually-hidden">Roles</caption>
<thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Permissions</th></tr></thead>
<tbody>${roles.map(
        (x) =>
          html`<tr><td><a href="${home}/roles/${encodeURIComponent(x.name)}">${x.name}</a>${x.builtIn ? ' (built in)' : ''}</td><td>${x.description ?? ''}</td><td>${x.permissions.length}</td></tr>`,
      )}</tbody></table></div>
<section class="section" aria-labelledby="create-role"><h2 id="create-role">Create a role</h2>
<form method="post" action="${home}/roles" novalidate>${csrfField(r)}${alertOf(errors.size ? undefined : general)}
${input({ id: 'role-name', name: 'name', label: 'Name', value: form?.get('name') ?? '', required: true, error: errors.get('name') })}
${input({ id: 'role-description', name: 'description', label: 'Description', value: form?.get('description') ?? '', error: errors.get('description') })}
<p class="hint">Its permissions are chosen on the role's page.</p>
<button type="submit" class="primary">Create role</button></form></section>`,
    },
    form ? 400 : 200,
  );
}

export async function rolePage(r: ConsoleRequest, name: string, action: string | undefined, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  const base = `${home}/roles/${encodeURIComponent(name)}`;
  let alert: { where: string; message: string } | undefined;
  if (form && action) {
    try {
      if (action === 'delete') {
        confirmed(form, name);
        await r.call('role.delete', { params: { name } });
        return done(r, `${home}/roles`, 'role-deleted');
      }
      // each checkbox is `<audience> <scope>` (an audience is a URL: no space in it)
      const permissions = form.getAll('permission').flatMap((v) => {
        const i = v.lastIndexOf(' ');
        return i > 0 ? [{ resource: v.slice(0, i), scope: v.slice(i + 1) }] : [];
      });
      const description = form.get('description')?.trim() ?? '';
      const current = (await r.call('role.read', { params: { name } })) as Role;
      const body = changes({ permissions: current.permissions, description: current.description ?? '' }, { permissions, description });
      if (Object.keys(body).length) await r.call('role.update', { params: { name }, body });
      return done(r, base, 'role-saved');
    } catch (err) {
      alert = { where: action, message: refusalText(err) };
    }
  }
  const [role, apis] = await Promise.all([r.call('role.read', { params: { name } }) as Promise<Role>, resources(r)]);
  const granted = new Set(role.permissions.map((p) => `${p.resource} ${p.scope}`));
  const withScopes = apis.filter((x) => x.scopes.length);
  r.send(
    {
      title: `Role ${role.name}`,
      content: html`<p class="lead"><a href="${home}/roles">← All roles</a></p>
${role.builtIn ? html`<p class="hint">A built-in role: what it may do is fixed.</p>` : EMPTY}
${role.builtIn && alert?.where === 'delete' ? alertOf(alert.message) : EMPTY}
<form method="post" action="${base}/edit" novalidate>${csrfField(r)}${alertOf(alert?.where === 'edit' ? alert.message : undefined)}
${input({ id: 'role-description', name: 'description', label: 'Description', value: role.description ?? '' })}
<h2>Permissions</h2><p class="hint">A holder of this role may get tokens for the checked scopes of each API.</p>
${
  withScopes.length
    ? withScopes.map(
        (x) =>
          html`<fieldset class="checks matrix"><legend>${x.name} <code>${x.audience}</code></legend>${x.scopes.map(
            (s) =>
              html`<label class="check"><input type="checkbox" name="permission" value="${x.audience} ${s}"${granted.has(`${x.audience} ${s}`) ? html` checked` : EMPTY}${role.builtIn ? html` disabled` : EMPTY}> ${s}</label>`,
          )}</fieldset>`,
      )
    : html`<p class="hint">No API has scopes yet: add one on the APIs page.</p>`
}
${role.builtIn ? EMPTY : html`<button type="submit" class="secondary">Save permissions</button>`}</form>
${role.builtIn ? EMPTY : deleteSection(r, { action: `${base}/delete`, what: 'role', name: role.name, error: alert?.where === 'delete' ? alert.message : undefined, consequence: 'Users and clients lose it; their next tokens no longer carry it.' })}`,
    },
    alert ? 400 : 200,
  );
}
