/**
 * Passkeys in the browser: drives every `<form data-webauthn="register|authenticate">` on the page.
 * Served same-origin as an ES module (CSP `script-src 'self'`): no inline code, no eval, no innerHTML.
 *
 * The form carries, from the server:
 *   data-options            the options JSON of @simplewebauthn/server (generateRegistrationOptions for
 *                           "register", generateAuthenticationOptions for "authenticate"), binary fields
 *                           as base64url strings
 *   input[name=credential]  hidden, empty: receives the RegistrationResponseJSON / AuthenticationResponseJSON
 *   button[type=submit]     starts the ceremony (disabled while it runs)
 *   [data-webauthn-status]  a role="status" live region for messages
 * On success the form is submitted natively (with its own CSRF field), so the server answers with a page.
 */

/** base64url (padded or not) → ArrayBuffer */
const toBuffer = (b64url) => {
  const b64 = b64url
    .replace(/-/g, '+')
    .replace(/_/g, '/')
    .padEnd(Math.ceil(b64url.length / 4) * 4, '=');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
};

/** ArrayBuffer (or view) → unpadded base64url */
const toBase64url = (buf) => {
  const bytes = buf instanceof ArrayBuffer ? new Uint8Array(buf) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

/** credential descriptors ({ id: base64url, type, transports }) with their ids as bytes */
const descriptors = (list) => list?.map((d) => ({ ...d, id: toBuffer(d.id) }));

/** the JSON options → what navigator.credentials.create({ publicKey }) expects */
const creationOptions = (o) => ({
  ...o,
  challenge: toBuffer(o.challenge),
  user: { ...o.user, id: toBuffer(o.user.id) },
  excludeCredentials: descriptors(o.excludeCredentials) ?? [],
});

/** the JSON options → what navigator.credentials.get({ publicKey }) expects */
const requestOptions = (o) => ({
  ...o,
  challenge: toBuffer(o.challenge),
  allowCredentials: descriptors(o.allowCredentials) ?? [],
});

/** a PublicKeyCredential → RegistrationResponseJSON or AuthenticationResponseJSON (simplewebauthn) */
function toJSON(cred, register) {
  const r = cred.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (register) {
    response.attestationObject = toBase64url(r.attestationObject);
    if (typeof r.getTransports === 'function') response.transports = r.getTransports();
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  const json = {
    id: cred.id,
    rawId: toBase64url(cred.rawId),
    type: cred.type,
    response,
    clientExtensionResults: typeof cred.getClientExtensionResults === 'function' ? cred.getClientExtensionResults() : {},
  };
  if (cred.authenticatorAttachment) json.authenticatorAttachment = cred.authenticatorAttachment;
  return json;
}

/** a short message for a failed or cancelled ceremony (a DOMException name, mostly) */
function messageFor(err, register) {
  switch (err?.name) {
    case 'NotAllowedError':
    case 'AbortError':
      return 'The passkey request was cancelled or timed out. Try again.';
    case 'InvalidStateError':
      return register ? 'This passkey is already registered.' : 'This passkey cannot be used here. Try another one.';
    case 'SecurityError':
      return 'Passkeys cannot be used on this address.';
    case 'NotSupportedError':
      return 'This device does not support the requested kind of passkey.';
    case 'SyntaxError':
    case 'InvalidCharacterError':
    case 'TypeError':
      return 'The passkey request could not be prepared. Reload the page and try again.';
    default:
      return 'The passkey request failed. Try again.';
  }
}

function setUp(form) {
  const register = form.dataset.webauthn === 'register';
  const field = form.querySelector('input[name="credential"]');
  const button = form.querySelector('button[type="submit"], button:not([type])');
  const status = form.querySelector('[data-webauthn-status]');
  const say = (text) => {
    if (status) status.textContent = text;
  };
  let busy = false;
  const reset = () => {
    busy = false;
    if (button) button.disabled = false;
  };

  form.addEventListener('submit', (event) => {
    if (busy) return event.preventDefault(); // a ceremony or its submission is under way
    if (field?.value) return; // already carries a credential: let it go
    event.preventDefault();
    if (!field) return;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say('This browser does not support passkeys.');
      return;
    }
    busy = true;
    if (button) button.disabled = true;
    say('Follow the instructions of your browser or device.');
    run().catch(() => {}); // run() handles its own errors; nothing reaches the console
  });

  // an async function runs synchronously up to its first await: create()/get() is called within the click's user activation
  async function run() {
    try {
      const options = JSON.parse(form.dataset.options ?? '');
      const cred = register
        ? await navigator.credentials.create({ publicKey: creationOptions(options) })
        : await navigator.credentials.get({ publicKey: requestOptions(options) });
      if (!cred) throw new DOMException('no credential', 'NotAllowedError');
      field.value = JSON.stringify(toJSON(cred, register));
      say(register ? 'Saving the passkey…' : 'Signing in…');
      form.submit(); // native submit (the form's CSRF field included): does not fire "submit" again
    } catch (err) {
      field.value = '';
      say(messageFor(err, register));
      reset();
    }
  }

  // back/forward cache: a page left by form.submit() comes back with a disabled button and a spent credential
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    if (field) field.value = '';
    say('');
    reset();
  });
}

for (const form of document.querySelectorAll('form[data-webauthn="register"], form[data-webauthn="authenticate"]')) setUp(form);
