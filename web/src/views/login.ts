import { api, ApiError, type User } from '../api.ts';
import { field, h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import { signedIn } from '../main.ts';
import { errorText } from '../widgets.ts';

/** The sign-in form. */
export function loginView({ el }: ViewContext): void {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const msg = h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
  const button = h('button', { type: 'submit' }, t('signIn'));
  const form = h('form', {
    class: 'card login',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      button.disabled = true;
      msg.textContent = '';
      try {
        const r = await api<{ user: User; csrfToken: string }>('POST', '/auth/login', { username: username.value, password: password.value });
        signedIn(r.user, r.csrfToken);
      } catch (err) {
        msg.textContent = err instanceof ApiError && err.status === 404 ? t('authMissing') : err instanceof ApiError && (err.status === 401 || err.status === 400) ? t('loginFailed') : `${t('error')}: ${errorText(err)}`;
        button.disabled = false;
        password.select();
      }
    },
  }, h('h1', null, t('signIn')), field(t('username'), username), field(t('password'), password), msg, button);
  replace(el, form);
}
