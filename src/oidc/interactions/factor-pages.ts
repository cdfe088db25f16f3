/**
 * The pieces of the second-factor pages that the sign-in steps and the account page share: the
 * TOTP enrolment (secret as text, otpauth URI, QR code rendered on the server as inline SVG, so the
 * CSP stays `default-src 'none'`), the recovery codes shown once, the new-password form, and the
 * passkey form that the same-origin module views/webauthn.js drives.
 */
import { otpauthUri, qrSvg } from '../../security/totp.ts';
import { EMPTY, join, render, SafeHtml } from './views.ts';

export const describedBy = (error: string | undefined) => (error ? new SafeHtml('aria-describedby="form-error" aria-invalid="true"') : EMPTY);
/** "Cancel and return to the application": the interaction's abort, with its CSRF token */
export const cancelForm = (basePath: string, uid: string, csrf: string) => render('cancel-form.html', { action: `${basePath}/interaction/${uid}/abort`, csrf });

export const alertOf = (error: string | undefined) => (error ? render('alert.html', { message: error }) : EMPTY);

export async function totpEnrolContent(opts: {
  intro: string;
  issuer: string;
  account: string;
  secret: string;
  action: string;
  csrf: string;
  error?: string | undefined;
  /** more fields of the form (the account page asks for the current password) */
  fields?: SafeHtml;
  cancel?: SafeHtml;
}): Promise<SafeHtml> {
  const uri = otpauthUri({ issuer: opts.issuer, account: opts.account, secret: opts.secret });
  // the SVG is the library's output for our own URI (no user markup in it): inserted as is
  const qr = new SafeHtml((await qrSvg(uri)).replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" '));
  return render('totp-enrol.html', {
    intro: opts.intro,
    qr,
    secret: opts.secret.replace(/(.{4})(?=.)/g, '$1 '),
    uri,
    alert: alertOf(opts.error),
    action: opts.action,
    csrf: opts.csrf,
    describedBy: describedBy(opts.error),
    fields: opts.fields ?? EMPTY,
    cancel: opts.cancel ?? EMPTY,
  });
}

/** `action` with `csrf`: a POST form (sign-in); without: a GET link-like form (account page) */
export function recoveryCodesContent(codes: readonly string[], action: string, csrf?: string): SafeHtml {
  return render('recovery-codes.html', {
    codes: join(codes.map((c) => render('recovery-code.html', { code: c }))),
    method: csrf ? 'post' : 'get',
    action,
    csrfField: csrf ? render('csrf-field.html', { csrf }) : EMPTY,
  });
}

export function newPasswordContent(opts: {
  intro: string;
  action: string;
  csrf: string;
  button: string;
  error?: string | undefined;
  /** ask for the current password too (account page) */
  current?: boolean;
  cancel?: SafeHtml;
}): SafeHtml {
  return render('password-new.html', {
    intro: opts.intro,
    alert: alertOf(opts.error),
    action: opts.action,
    csrf: opts.csrf,
    current: opts.current ? render('current-password.html', { id: 'current-password' }) : EMPTY,
    errorRef: opts.error ? ' form-error' : '',
    invalid: opts.error ? new SafeHtml('aria-invalid="true"') : EMPTY,
    button: opts.button,
    cancel: opts.cancel ?? EMPTY,
  });
}

export function passkeyForm(opts: {
  mode: 'register' | 'authenticate';
  options: unknown;
  action: string;
  csrf: string;
  label: string;
  fields?: SafeHtml;
}): SafeHtml {
  return render('passkey-form.html', {
    mode: opts.mode,
    // an attribute value: escaped by the renderer, read back with JSON.parse by the module
    options: JSON.stringify(opts.options),
    action: opts.action,
    csrf: opts.csrf,
    fields: opts.fields ?? EMPTY,
    label: opts.label,
  });
}
