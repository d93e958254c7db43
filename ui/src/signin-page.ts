import { ApiError, type Api } from './api.ts';
import { h } from './dom.ts';
import { ME } from './queries.ts';
import { normaliseToken } from './session.ts';
import type { Caller } from './types.ts';

/**
 * The sign-in form: a token (tl_<id>_<secret>, as `npm run token -- create` prints it) is tried
 * with `me` before it is kept; a refusal says why.
 */
export function signInPage(api: Api, message: string | null, onSignedIn: (token: string, me: Caller) => void): HTMLElement {
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: 'tl_…',
    required: true,
    'aria-describedby': 'signin-help',
  });
  const alert = h('p', { class: 'alert', role: 'alert', 'data-testid': 'signin-error', hidden: !message }, message ?? '');
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'signin', 'data-testid': 'signin-form' },
    h('h1', {}, 'Sign in to Trunkline'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h(
      'p',
      { id: 'signin-help', class: 'help' },
      'Paste an API token (tl_<id>_<secret>). It is kept in this tab only (sessionStorage) and sent as a Bearer token on every API call.',
    ),
    alert,
    button,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = normaliseToken(input.value);
    if (!token) return;
    button.disabled = true;
    alert.hidden = true;
    api
      .query<{ me: Caller }>(ME, {}, token)
      .then((data) => onSignedIn(token, data.me))
      .catch((err: unknown) => {
        alert.textContent = err instanceof ApiError ? err.message : `Sign-in failed: ${(err as Error).message}`;
        alert.hidden = false;
        button.disabled = false;
        input.select();
      });
  });
  queueMicrotask(() => input.focus());
  return h('div', { class: 'signin-wrap' }, form);
}
