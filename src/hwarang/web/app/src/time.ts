// Dates in KST (Asia/Seoul), whatever the browser's own time zone.

const KST = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Seoul',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** "YYYY-MM-DD HH:MM:SS" in KST for an ISO 8601 instant. */
export function formatKst(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = Object.fromEntries(KST.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

/** "HH:MM:SS" in KST. */
export function formatKstTime(iso: string): string {
  return formatKst(iso).slice(11);
}

/** An ISO instant `minutes` from now, in the form the API's due_at accepts. */
export function isoInMinutes(minutes: number): string {
  return new Date(Date.now() + minutes * 60_000).toISOString();
}

/** A duration in words of the page's language: "45 s", "3 min 5 s", "2 h 10 min", "1 d 3 h" (ko: 45초, 3분 5초 ...). */
export function humanDuration(seconds: number, lang: 'ko' | 'en'): string {
  const s = Math.max(0, Math.round(Math.abs(seconds)));
  const units: Array<[number, string, string]> = [
    [86_400, '일', 'd'], [3_600, '시간', 'h'], [60, '분', 'min'], [1, '초', 's'],
  ];
  const name = (n: number, i: number): string => (lang === 'ko' ? `${n}${units[i][1]}` : `${n} ${units[i][2]}`);
  const first = units.findIndex(([size]) => s >= size);
  if (first < 0) return name(0, units.length - 1);
  const parts = [name(Math.floor(s / units[first][0]), first)];
  if (first + 1 < units.length) {
    const next = Math.floor((s % units[first][0]) / units[first + 1][0]);
    if (next > 0) parts.push(name(next, first + 1));
  }
  return parts.join(' ');
}

/** Seconds from `fromIso` to `toIso` (NaN when either does not parse). */
export function secondsBetween(fromIso: string, toIso: string): number {
  return (new Date(toIso).getTime() - new Date(fromIso).getTime()) / 1000;
}
