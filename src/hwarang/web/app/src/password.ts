// "Change password": a header button and a small dialog posting to /api/v1/auth/password. The
// hub checks the current password and the one password rule (10 to 256 characters, ...).

import { api } from './auth';
import { $, h } from './dom';
import { defineStrings, onLangChange, t } from './i18n';

defineStrings({
  ko: {
    pw_button: '비밀번호 변경', pw_current: '현재 비밀번호', pw_new: '새 비밀번호 (10자 이상)',
    pw_again: '새 비밀번호 확인', pw_submit: '변경', pw_close: '닫기',
    pw_differ: '새 비밀번호 두 개가 서로 다릅니다.',
    pw_changed: '비밀번호를 변경했습니다. 다른 세션은 다음 갱신 때 종료됩니다.', pw_refused: '거부됨 ({status})',
  },
  en: {
    pw_button: 'Password', pw_current: 'Current password', pw_new: 'New password (at least 10 characters)',
    pw_again: 'New password again', pw_submit: 'Change', pw_close: 'Close',
    pw_differ: 'The two new passwords differ.',
    pw_changed: 'Password changed; your other sessions end at their next renewal.', pw_refused: 'refused ({status})',
  },
});

function input(testid: string, label: string): [HTMLLabelElement, HTMLInputElement] {
  const field = h('input', { type: 'password', 'data-testid': testid, autocomplete: 'new-password', required: '' });
  return [h('label', {}, label, field), field];
}

function dialog(): HTMLDialogElement {
  const [currentLabel, current] = input('password-current', t('pw_current'));
  const [nextLabel, next] = input('password-new', t('pw_new'));
  const [againLabel, again] = input('password-again', t('pw_again'));
  const result = h('p', { 'data-testid': 'password-result', class: 'muted' });
  const submit = h('button', { type: 'submit', 'data-testid': 'password-submit' }, t('pw_submit'));
  const cancel = h('button', { type: 'button' }, t('pw_close'));
  const form = h('form', { method: 'dialog' }, currentLabel, nextLabel, againLabel, result, submit, cancel);
  const box = h('dialog', { class: 'password', 'data-testid': 'password-dialog' }, form);
  cancel.addEventListener('click', () => box.close());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (next.value !== again.value) {
      result.textContent = t('pw_differ');
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
        ? t('pw_changed')
        : typeof body.detail === 'string'
          ? body.detail
          : t('pw_refused', { status: response.status });
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
  const button = h('button', { type: 'button', 'data-testid': 'password-button' }, t('pw_button'));
  logout.before(button);
  let box: HTMLDialogElement | undefined;
  button.addEventListener('click', () => {
    box ??= dialog();
    box.showModal();
  });
  onLangChange(() => {
    button.textContent = t('pw_button');
    if (box && !box.open) {
      box.remove(); // built again, in the new language, when next opened
      box = undefined;
    }
  });
  const follow = (): void => {
    button.hidden = logout.hidden;
  };
  new MutationObserver(follow).observe(logout, { attributes: true, attributeFilter: ['hidden'] });
  follow();
}
