/**
 * The console's pages. Each reads and changes through admin API calls (`r.call`), so what a page
 * may show or do is what the API allows this admin. A form that is refused is shown again with
 * what was typed (never a password) and the error next to the field that caused it.
 */
import { AppError } from '../errors.ts';
import { EMPTY, join, render, SafeHtml } from '../oidc/interactions/views.ts';
import { alertOf, checkboxes, confirmed, done, everything, refusal } from './forms.ts';
import type { AuditEventView as AuditEvent } from '../services/audit.ts';
import type { PageOf } from '../services/page.ts';
import type { UserView } from '../services/users.ts';
import type { ConsoleRequest } from './types.ts';

/** the notices a redirect after a change may name (`?done=…`): fixed texts, nothing reflected */
export const NOTICES: Record<string, string> = {
  created: 'The user was created.',
  roles: 'The roles were saved.',
  disabled: 'The user was disabled: their sessions and tokens have ended.',
  enabled: 'The user was enabled.',
  password: 'The password was reset: the user’s sessions and tokens have ended.',
  mfa: 'The second factors were reset.',
  deleted: 'The user was deleted.',
  'client-created': 'The client was created.',
  'client-saved': 'The client was saved.',
  'client-disabled': 'The client was disabled: it gets no new tokens.',
  'client-enabled': 'The client was enabled.',
  'client-deleted': 'The client was deleted.',
  'api-created': 'The API was added.',
  'api-saved': 'The API was saved.',
  'api-deleted': 'The API was deleted.',
  'role-created': 'The role was created: choose its permissions below.',
  'role-saved': 'The role was saved.',
  'role-deleted': 'The role was deleted.',
  'keys-rotated': 'The signing key was rotated.',
  'settings-saved': 'The settings were saved.',
  'tenant-created': 'The tenant was created.',
};

const field = (errors: Map<string, string>, name: string) =>
  errors.has(name)
    ? {
        error: render('console-field-error.html', { id: `${name}-error`, message: errors.get(name)! }),
        invalid: new SafeHtml(` aria-invalid="true" aria-describedby="${name}-error"`),
      }
    : { error: EMPTY, invalid: EMPTY };

/** a refusal as words per field (`errors`) or for the whole form (`general`) */
function userRefusal(err: unknown) {
  const r = refusal(err, explain);
  if (err instanceof AppError && err.code === 'conflict' && /^username .* already taken$/.test(err.message)) {
    return { errors: new Map([['username', 'A user with this username already exists.']]) };
  }
  return r;
}

const explain = (name: string, message: string) =>
  name === 'password'
    ? /too_small|>=|at least/i.test(message)
      ? 'The password must have at least 8 characters.'
      : /weak|common|guess/i.test(message)
        ? message
        : `The password is not accepted: ${message}`
    : name === 'email'
      ? 'Enter an email address like name@example.org, or leave it empty.'
      : name === 'username'
        ? 'Enter a username (at most 200 characters).'
        : message;

const mfaText = (u: UserView) =>
  [u.mfa.totp ? 'authenticator app' : '', u.mfa.passkeys ? `${u.mfa.passkeys} passkey${u.mfa.passkeys > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ') ||
  'none';
const statusText = (u: UserView) => (u.disabled ? 'Disabled' : u.temporaryPassword ? 'Must choose a password' : 'Active');

async function roleNames(r: ConsoleRequest): Promise<string[]> {
  return (await everything<{ name: string }>(r, 'role.list')).map((x) => x.name);
}

export async function usersPage(r: ConsoleRequest, form?: URLSearchParams): Promise<void> {
  const { ctx, home } = r;
  let errors = new Map<string, string>();
  let general: string | undefined;
  if (form) {
    const email = form.get('email')?.trim();
    try {
      const created = (await r.call('user.create', {
        body: {
          username: form.get('username') ?? '',
          password: form.get('password') ?? '',
          roles: form.getAll('roles'),
          ...(email ? { email } : {}),
          ...(form.get('temporaryPassword') ? { temporaryPassword: true } : {}),
        },
      })) as UserView;
      return done(r, `${home}/users/${created.id}`, 'created');
    } catch (err) {
      ({ errors, general } = userRefusal(err));
    }
  }
  const username = typeof ctx.query.username === 'string' ? ctx.query.username.slice(0, 200) : '';
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  const [users, roles] = await Promise.all([
    r.call('user.list', { query: { limit: '25', ...(username ? { username } : {}), ...(cursor ? { cursor } : {}) } }) as Promise<PageOf<UserView>>,
    roleNames(r),
  ]);
  const rows = users.items.map((u) =>
    render('console-user-row.html', {
      href: `${home}/users/${u.id}`,
      username: u.username,
      email: u.email ?? '',
      roles: u.roles.join(', '),
      mfa: mfaText(u),
      status: statusText(u),
    }),
  );
  const next = users.nextCursor ? `${home}/users?${new URLSearchParams({ ...(username ? { username } : {}), cursor: users.nextCursor })}` : undefined;
  const f = (name: string) => field(errors, name);
  r.send(
    {
      title: 'Users',
      content: render('console-users.html', {
        action: `${home}/users`,
        query: username,
        rows: rows.length ? join(rows) : render('console-empty-row.html', { span: '5', text: username ? 'No user matches this search.' : 'No users yet.' }),
        more: next ? render('console-more.html', { href: next }) : EMPTY,
        form: render('console-user-form.html', {
          action: `${home}/users`,
          csrf: r.csrf,
          alert: alertOf(general),
          username: form?.get('username') ?? '',
          usernameInvalid: f('username').invalid,
          usernameError: f('username').error,
          email: form?.get('email') ?? '',
          emailInvalid: f('email').invalid,
          emailError: f('email').error,
          passwordInvalid: f('password').invalid,
          passwordError: f('password').error,
          roles: checkboxes('roles', roles, new Set(form?.getAll('roles') ?? [])),
          rolesError: f('roles').error,
          temporary: form?.get('temporaryPassword') || !form ? new SafeHtml(' checked') : EMPTY,
        }),
      }),
    },
    form ? 400 : 200,
  );
}

export async function userPage(r: ConsoleRequest, id: string, action: string | undefined, form?: URLSearchParams): Promise<void> {
  const { home } = r;
  const base = `${home}/users/${id}`;
  const alerts: Record<string, string> = {};
  if (form && action) {
    try {
      if (action === 'roles') {
        await r.call('user.update', { params: { id }, body: { roles: form.getAll('roles') } });
        return done(r, base, 'roles');
      }
      if (action === 'state') {
        const disabled = form.get('disabled') === 'true';
        await r.call('user.update', { params: { id }, body: { disabled } });
        return done(r, base, disabled ? 'disabled' : 'enabled');
      }
      if (action === 'password') {
        await r.call('user.update', {
          params: { id },
          body: { password: form.get('password') ?? '', ...(form.get('temporaryPassword') ? { temporaryPassword: true } : {}) },
        });
        return done(r, base, 'password');
      }
      if (action === 'mfa') {
        if (form.get('confirm') !== '1') throw new AppError('invalid_request', 'Tick the box to confirm the reset.');
        await r.call('user.mfa_reset', { params: { id } });
        return done(r, base, 'mfa');
      }
      confirmed(form, ((await r.call('user.read', { params: { id } })) as UserView).username);
      await r.call('user.delete', { params: { id } });
      return done(r, `${home}/users`, 'deleted');
    } catch (err) {
      const { errors, general } = userRefusal(err);
      alerts[action] = general ?? [...errors.values()].join(' ');
    }
  }
  const [user, roles] = await Promise.all([r.call('user.read', { params: { id } }) as Promise<UserView>, roleNames(r)]);
  r.send(
    {
      title: user.username,
      content: render('console-user.html', {
        back: `${home}/users`,
        base,
        csrf: r.csrf,
        username: user.username,
        email: user.email ?? '—',
        status: statusText(user),
        mfa: mfaText(user),
        roles: checkboxes('roles', roles, new Set(user.roles)),
        rolesAlert: alertOf(alerts.roles),
        stateAlert: alertOf(alerts.state),
        nextDisabled: user.disabled ? 'false' : 'true',
        stateHint: user.disabled ? 'The user cannot sign in.' : 'Disabling ends the user’s sessions and tokens at once.',
        stateButton: user.disabled ? 'Enable user' : 'Disable user',
        passwordAlert: alertOf(alerts.password),
        mfaAlert: alertOf(alerts.mfa),
        deleteAlert: alertOf(alerts.delete),
      }),
    },
    Object.keys(alerts).length ? 400 : 200,
  );
}

/** an event's data as one line of JSON; nothing when it has none */
const detailsOf = (data: unknown) => (data && typeof data === 'object' && Object.keys(data).length ? JSON.stringify(data) : '');

/** the audit filters of the request, as the API's query (a `datetime-local` value is UTC) */
function auditQuery(r: ConsoleRequest) {
  const q = r.ctx.query;
  const text = (name: string) => (typeof q[name] === 'string' ? (q[name] as string).trim() : '');
  const instant = (name: string) => {
    const v = text(name);
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v) ? `${v}:00Z` : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(v) ? `${v}Z` : v;
  };
  const filters: Record<string, string> = {};
  for (const [name, value] of [
    ['type', text('type')],
    ['actor', text('actor')],
    ['from', instant('from')],
    ['to', instant('to')],
  ] as const) {
    if (value) filters[name] = value;
  }
  return { filters, shown: { type: text('type'), actor: text('actor'), from: text('from'), to: text('to') } };
}

export async function auditPage(r: ConsoleRequest): Promise<void> {
  const { ctx, home } = r;
  const { filters, shown } = auditQuery(r);
  const cursor = typeof ctx.query.cursor === 'string' ? ctx.query.cursor : undefined;
  let page: PageOf<AuditEvent> = { items: [], nextCursor: null };
  let error: string | undefined;
  try {
    page = (await r.call('audit.list', { query: { ...filters, limit: '50', ...(cursor ? { cursor } : {}) } })) as PageOf<AuditEvent>;
  } catch (err) {
    const { errors, general } = userRefusal(err);
    error = general ?? `Check the filters: ${[...errors.keys()].join(', ')}.`;
  }
  const rows = page.items.map((e) =>
    render('console-audit-row.html', {
      when: e.createdAt.slice(0, 19).replace('T', ' '),
      type: e.type,
      actor: e.actor,
      target: e.target ?? '',
      address: e.address ?? '',
      data: detailsOf(e.data),
    }),
  );
  const params = new URLSearchParams(Object.entries(shown).filter(([, v]) => v));
  const next = page.nextCursor ? `${home}/audit?${new URLSearchParams([...params, ['cursor', page.nextCursor]])}` : undefined;
  r.send(
    {
      title: 'Audit log',
      content: render('console-audit.html', {
        action: `${home}/audit`,
        ...shown,
        csv: `${home}/audit.csv${params.size ? `?${params}` : ''}`,
        alert: error ? render('alert.html', { message: error }) : EMPTY,
        rows: rows.length ? join(rows) : render('console-empty-row.html', { span: '6', text: 'No events match.' }),
        more: next ? render('console-more.html', { href: next }) : EMPTY,
      }),
    },
    error ? 400 : 200,
  );
}

/** the CSV export's limit: a larger trail is exported in time slices (`from`/`to`) */
export const CSV_MAX_EVENTS = 10_000;

/**
 * A CSV cell: always quoted (a `;` or a tab cannot split it in a locale that uses those as
 * separators), quotes doubled, and one a spreadsheet would run as a formula prefixed with `'`
 * (CWE-1236; found in review).
 */
export const csvCell = (v: string) => `"${(/^[=+\-@\t\r]/.test(v) ? `'${v}` : v).replace(/"/g, '""')}"`;

export async function auditCsv(r: ConsoleRequest): Promise<void> {
  const { filters } = auditQuery(r);
  const lines = [['time', 'type', 'actor', 'target', 'address', 'request_id', 'data'].join(',')];
  let cursor: string | null = null;
  let count = 0;
  do {
    const page = (await r.call('audit.list', { query: { ...filters, limit: '200', ...(cursor ? { cursor } : {}) } })) as PageOf<AuditEvent>;
    for (const e of page.items) {
      lines.push([e.createdAt, e.type, e.actor, e.target ?? '', e.address ?? '', e.requestId ?? '', detailsOf(e.data)].map(csvCell).join(','));
    }
    count += page.items.length;
    cursor = page.nextCursor;
  } while (cursor && count < CSV_MAX_EVENTS);
  const ctx = r.ctx;
  ctx.set('Cache-Control', 'no-store');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Disposition', `attachment; filename="audit-${r.tenant.slug}-${new Date().toISOString().slice(0, 10)}.csv"`);
  ctx.type = 'text/csv; charset=utf-8';
  ctx.body = `${lines.join('\r\n')}\r\n`;
}
