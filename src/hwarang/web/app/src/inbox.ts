// The agency task inbox: the tasks given to the user's own agency, with the actions the tasked
// agency takes (acknowledge, report progress, finish, decline with a reason). Refreshed every
// 15 s and after each action.

import { api, apiJson } from './auth';
import { $, h } from './dom';

interface Task {
  id: string;
  incident_id: string;
  agency_code: string;
  title: string;
  state: string;
  due_at: string;
}

const REFRESH_MS = 15_000;
let timer: number | undefined;
let agency = '';

const ACTIONS: Record<string, [string, string][]> = {
  open: [['acknowledged', 'Acknowledge'], ['declined', 'Decline']],
  acknowledged: [['in_progress', 'Report progress'], ['done', 'Done'], ['declined', 'Decline']],
  in_progress: [['in_progress', 'Report progress'], ['done', 'Done'], ['declined', 'Decline']],
};

function box(): HTMLElement {
  const existing = document.querySelector<HTMLElement>('[data-testid="task-inbox"]');
  if (existing) return existing;
  const section = h('section', { class: 'inbox', 'data-testid': 'task-inbox' }, h('h2', {}, 'Tasks of my agency'));
  $('aside.side').append(section);
  return section;
}

async function act(task: Task, state: string): Promise<void> {
  let reason = '';
  if (state === 'declined' || state === 'in_progress') {
    reason = window.prompt(state === 'declined' ? 'Why can your agency not do it?' : 'Progress so far') ?? '';
    if (!reason.trim()) return;
  }
  const response = await api(`/api/v1/tasks/${task.id}/state`, { method: 'POST', json: { state, reason } });
  if (!response.ok) console.warn('task', task.id, response.status, await response.text());
  await refresh();
}

function item(task: Task): HTMLLIElement {
  const buttons = (ACTIONS[task.state] ?? []).map(([state, label]) => {
    const button = h('button', { type: 'button', 'data-testid': `task-${state}` }, label);
    button.addEventListener('click', () => void act(task, state).catch((err) => console.warn('task', err)));
    return button;
  });
  return h(
    'li',
    { 'data-testid': 'task-item', 'data-task-id': task.id, 'data-state': task.state },
    h('span', { class: 'task-title' }, task.title),
    h('span', { class: 'task-state', 'data-testid': 'task-state' }, task.state),
    ...buttons,
  );
}

async function refresh(): Promise<void> {
  if (!agency) agency = (await apiJson<{ agency_code: string }>('/api/v1/auth/me')).agency_code;
  const tasks = await apiJson<Task[]>(`/api/v1/tasks?agency_code=${encodeURIComponent(agency)}&limit=50`);
  const section = box();
  const list = h('ul', {}, ...tasks.map(item));
  section.replaceChildren(section.firstChild ?? h('h2', {}, 'Tasks of my agency'), list);
  section.hidden = tasks.length === 0;
}

/** Start the inbox after login; `stopInbox` at logout. */
export function startInbox(): void {
  stopInbox();
  const run = (): void => void refresh().catch((err) => console.warn('inbox', err));
  run();
  timer = window.setInterval(run, REFRESH_MS);
}

export function stopInbox(): void {
  if (timer !== undefined) window.clearInterval(timer);
  timer = undefined;
  agency = '';
  document.querySelector('[data-testid="task-inbox"]')?.remove();
}
