// An incident's timeline in words: ingest bursts folded into one expandable line, every other entry
// a sentence in the page's language, times in KST, durations and deadlines human.
import { h } from './dom';
import { currentLang, t } from './i18n';
import { formatKst, formatKstTime, humanDuration, secondsBetween } from './time';
import type { TimelineEntry } from './types';

/** Events further apart than this start a new burst. */
export const BURST_GAP_S = 300;

export interface TimelineContext {
  agencyName: (code: string) => string;
  cameraName: (id: string) => string;
  noteText: (id: number) => string | undefined;
}

export type TimelineItem =
  | { type: 'entry'; entry: TimelineEntry }
  | { type: 'burst'; entries: TimelineEntry[] };

/** Consecutive `event.added` entries (at most BURST_GAP_S apart) become one burst; the rest stay. */
export function foldTimeline(entries: readonly TimelineEntry[]): TimelineItem[] {
  const items: TimelineItem[] = [];
  for (const entry of entries) {
    const last = items.at(-1);
    if (entry.kind === 'event.added') {
      const previous = last?.type === 'burst' ? last.entries.at(-1) : undefined;
      if (last?.type === 'burst' && previous && secondsBetween(previous.at, entry.at) <= BURST_GAP_S) {
        last.entries.push(entry);
        continue;
      }
      items.push({ type: 'burst', entries: [entry] });
    } else items.push({ type: 'entry', entry });
  }
  return items;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === null || value === undefined ? '' : String(value);
}

/** Who did it, in words: the hub's own actors are named, people by their user name. */
export function actorText(actor: string): string {
  return actor.startsWith('system:') ? t(`actor_${actor.slice('system:'.length)}`) : actor;
}

/** "in 30 min (14:36 KST)" / "30분 후 (14:36 KST)", or "overdue" past `now`. */
function dueText(dueIso: string, fromIso: string): string {
  const seconds = secondsBetween(fromIso, dueIso);
  if (Number.isNaN(seconds)) return dueIso;
  return t('tl_due', { in: humanDuration(seconds, currentLang()), at: formatKstTime(dueIso) });
}

/** The sentence for one (unfolded) entry; `since` is the previous state change (or the opening). */
export function describeEntry(entry: TimelineEntry, ctx: TimelineContext, since?: string): string {
  const d = entry.detail ?? {};
  const lang = currentLang();
  switch (entry.kind) {
    case 'created':
      return t('tl_created_words', {
        camera: ctx.cameraName(text(d.camera_id)) || '—',
        severity: t(`sev_${text(d.severity)}`),
      });
    case 'event.added':
      return t('tl_event_words', {
        camera: ctx.cameraName(text(d.camera_id)) || '—',
        severity: t(`sev_${text(d.severity)}`),
        score: typeof d.score === 'number' ? d.score.toFixed(2) : '—',
      });
    case 'state': {
      const after = since ? secondsBetween(since, entry.at) : NaN;
      const took = Number.isNaN(after) ? '' : ` ${t('tl_after', { d: humanDuration(after, lang) })}`;
      const reason = text(d.reason) ? ` — ${text(d.reason)}` : '';
      const cancelled = Array.isArray(d.cancelled_tasks) && d.cancelled_tasks.length
        ? ` ${t('tl_tasks_cancelled', { n: d.cancelled_tasks.length })}` : '';
      const reopened = d.reopen ? `${t('tl_reopened')} ` : '';
      return `${reopened}${t(`state_${entry.from_state ?? ''}`)} → ${t(`state_${entry.to_state ?? ''}`)}${took}${reason}${cancelled}`;
    }
    case 'assign':
      return d.to ? t('tl_assigned', { user: text(d.to) }) : t('tl_unassigned', { user: text(d.from) });
    case 'note': {
      const note = ctx.noteText(Number(d.note_id)) ?? text(d.text);
      return `${t('tl_note')}: ${note}`;
    }
    case 'attachment':
      return t('tl_attachment', { name: text(d.filename), size: humanBytes(Number(d.size)) });
    case 'task.created':
      return t('tl_task_created', {
        agency: ctx.agencyName(text(d.agency_code)),
        title: text(d.title),
        due: dueText(text(d.due_at), entry.at),
      });
    case 'task.state':
      return t('tl_task_state', {
        agency: ctx.agencyName(text(d.agency_code)),
        from: t(`task_${entry.from_state ?? ''}`),
        to: t(`task_${entry.to_state ?? ''}`),
      }) + (text(d.reason) ? ` — ${reasonWords(text(d.reason))}` : '');
    case 'task.escalated':
      return t('tl_task_escalated', {
        agency: ctx.agencyName(text(d.agency_code)),
        level: text(d.level),
        late: humanDuration(secondsBetween(text(d.due_at), entry.at), lang),
      });
    case 'severity':
      return t('tl_severity', { from: t(`sev_${text(d.from)}`), to: t(`sev_${text(d.to)}`) })
        + (text(d.reason) ? ` — ${reasonWords(text(d.reason))}` : '');
    case 'share':
      return t(d.via === 'task' ? 'tl_shared_task' : 'tl_shared', { agency: ctx.agencyName(text(d.agency_code)) });
    case 'merge':
      return d.merged_into ? t('tl_merged_into') : t('tl_merged', { n: Number(d.events ?? 0) })
        + (text(d.reason) ? ` — ${text(d.reason)}` : '');
    case 'split':
      return (d.split_from ? t('tl_split_from') : t('tl_split', { n: Array.isArray(d.events) ? d.events.length : 0 }))
        + (text(d.reason) ? ` — ${text(d.reason)}` : '');
    case 'escalation':
      return t('tl_unacked_escalated', {
        level: text(d.level),
        after: humanDuration(Number(d.after_s ?? 0), lang),
      });
    default:
      return t('tl_other', { kind: entry.kind });
  }
}

/** The hub's fixed reasons in words ("task overdue", "incident resolved"); free text stays. */
function reasonWords(reason: string): string {
  const key = `why_${reason.replace(/ /g, '_')}`;
  const words = t(key);
  return words === key ? reason : words;
}

function humanBytes(size: number): string {
  if (!Number.isFinite(size)) return '';
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** "+12 events, 2 cameras (over 3 min)" in the page's language. */
export function burstText(entries: readonly TimelineEntry[]): string {
  const cameras = new Set(entries.map((e) => text(e.detail?.camera_id)).filter(Boolean));
  const span = entries.length > 1 ? secondsBetween(entries[0].at, entries[entries.length - 1].at) : 0;
  const head = t(entries.length === 1 ? 'tl_burst_one' : 'tl_burst', { n: entries.length });
  const cams = cameras.size ? `, ${t(cameras.size === 1 ? 'tl_cameras_one' : 'tl_cameras', { n: cameras.size })}` : '';
  const over = span >= 1 ? ` ${t('tl_over', { d: humanDuration(span, currentLang()) })}` : '';
  return `${head}${cams}${over}`;
}

function timeEl(iso: string): HTMLElement {
  return h('time', { datetime: iso, title: `${formatKst(iso)} KST` }, formatKstTime(iso));
}

/** The timeline's list items: one per entry, one expandable item per burst of events. */
export function renderTimeline(entries: readonly TimelineEntry[], ctx: TimelineContext): HTMLElement[] {
  let since: string | undefined = entries[0]?.at;
  return foldTimeline(entries).map((item) => {
    if (item.type === 'burst') {
      const rows = item.entries.map((entry) =>
        h('li', { 'data-testid': 'burst-event' }, timeEl(entry.at), ' ', describeEntry(entry, ctx)));
      const first = item.entries[0];
      return h('li', { 'data-testid': 'timeline-entry', 'data-kind': 'events', class: 'burst' },
        h('details', {},
          h('summary', { 'data-testid': 'burst-summary' }, timeEl(first.at), ' ',
            h('span', { class: 'actor' }, actorText(first.actor)), ' ',
            h('span', { class: 'words' }, burstText(item.entries))),
          h('ol', { class: 'burst-events' }, ...rows)));
    }
    const entry = item.entry;
    const words = describeEntry(entry, ctx, since);
    if (entry.kind === 'state') since = entry.at;
    return h('li', { 'data-testid': 'timeline-entry', 'data-kind': entry.kind },
      timeEl(entry.at), ' ',
      h('span', { class: 'actor' }, actorText(entry.actor)), ' ',
      h('span', { class: 'words' }, words));
  });
}
