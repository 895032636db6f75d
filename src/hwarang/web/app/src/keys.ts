// Keyboard shortcuts for the operator's frequent actions, and the help overlay (?) listing them.
import { $, h } from './dom';
import { t } from './i18n';

export interface KeyActions {
  next: () => void;
  previous: () => void;
  open: () => void;
  acknowledge: () => void;
  note: () => void;
  escape: () => void;
  search: () => void;
  language: () => void;
}

const SHORTCUTS: Array<[keys: string[], label: string, action: keyof KeyActions | 'help']> = [
  [['j', 'ArrowDown'], 'k_next', 'next'],
  [['k', 'ArrowUp'], 'k_prev', 'previous'],
  [['Enter', 'o'], 'k_open', 'open'],
  [['a'], 'k_ack', 'acknowledge'],
  [['n'], 'k_note', 'note'],
  [['/'], 'k_search', 'search'],
  [['l'], 'k_lang', 'language'],
  [['Escape'], 'k_esc', 'escape'],
  [['?'], 'k_help', 'help'],
];

const KEY_LABELS: Record<string, string> = { ArrowDown: '↓', ArrowUp: '↑', Escape: 'Esc' };

function typing(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}

export function helpVisible(): boolean {
  return !$('#help').hidden;
}

export function toggleHelp(show = !helpVisible()): void {
  $('#help').hidden = !show;
}

export function renderHelp(): void {
  $('#help-keys').replaceChildren(
    ...SHORTCUTS.flatMap(([keys, label]) => [
      h('dt', {}, ...keys.flatMap((key, i) => [i ? ' / ' : '', h('kbd', {}, KEY_LABELS[key] ?? key)])),
      h('dd', {}, t(label)),
    ]),
  );
}

/** Listen on the document while `active()` (logged in); keys typed into fields are left alone except Esc. */
export function bindShortcuts(actions: KeyActions, active: () => boolean): void {
  $('#help-close').addEventListener('click', () => toggleHelp(false));
  $('#help-button').addEventListener('click', () => toggleHelp());
  document.addEventListener('keydown', (event) => {
    if (!active() || event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === 'Escape') (event.target as HTMLElement).blur();
      return;
    }
    const shortcut = SHORTCUTS.find(([keys]) => keys.includes(event.key));
    if (!shortcut) return;
    if (event.key === 'Enter' && event.target instanceof HTMLElement && event.target.closest('button, a, th')) return;
    event.preventDefault();
    const action = shortcut[2];
    if (action === 'help') toggleHelp();
    else if (action === 'escape' && helpVisible()) toggleHelp(false);
    else actions[action]();
  });
}
