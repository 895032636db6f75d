// "Change password": a header button and a small dialog posting to /api/v1/auth/password. The
// hub checks the current password and the one password rule (10 to 256 characters, ...).

import { api } from './auth';
import { $, h } from './dom';

function input(testid: string, label: string): [HTMLLabelElement, HTMLInputElement] {
  const field = h('input', { type: 'password', 'data-testid': testid, autocomplete: 'new-password', required: '' });
  return [h('label', {}, label, field), field];
}

function dialog(): HTMLDialogElement {
  const [currentLabel, current] = input('password-current', 'Current password');
  const [nextLabel, next] = input('password-new', 'New password (at least 10 characters)');
  const [againLabel, again] = input('password-again', 'New password again');
  const result = h('p', { 'data-testid': 'password-result', class: 'muted' });
  const submit = h('button', { type: 'submit', 'data-testid': 'password-submit' }, 'Change');
  const cancel = h('button', { type: 'button' }, 'Close');
  const form = h('form', { method: 'dialog' }, currentLabel, nextLabel, againLabel, result, submit, cancel);
  const box = h('dialog', { class: 'password', 'data-testid': 'password-dialog' }, form);
  cancel.addEventListener('click', () => box.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (next.value !== again.value) {
      result.textContent = 'The two new passwords differ.';
      return;
    }
    void (async () => {
      const response = await api('/api/v1/auth/password', {
        method: 'POST',
        json: { current_password: current.value, new_password: next.value },
      });
      const body = (await response.json().catch(() => ({}))) as { detail?: unknown };
      result.dataset.ok = String(response.ok);
      result.textContent = response.ok
        ? 'Password changed; your other sessions end at their next renewal.'
        : typeof body.detail === 'string'
          ? body.detail
          : `refused (${response.status})`;
      if (response.ok) for (const field of [current, next, again]) field.value = '';
    })().catch((err) => {
      result.textContent = String(err);
    });
  });
  document.body.append(box);
  return box;
}

/** Add the header button (once); it follows the logout button's visibility. */
export function installPasswordChange(): void {
  if (document.querySelector('[data-testid="password-button"]')) return;
  const logout = $('#logout');
  const button = h('button', { type: 'button', 'data-testid': 'password-button' }, 'Password');
  logout.before(button);
  let box: HTMLDialogElement | undefined;
  button.addEventListener('click', () => {
    box ??= dialog();
    box.showModal();
  });
  const follow = (): void => {
    button.hidden = logout.hidden;
  };
  new MutationObserver(follow).observe(logout, { attributes: true, attributeFilter: ['hidden'] });
  follow();
}
