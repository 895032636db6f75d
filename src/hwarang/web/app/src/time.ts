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
