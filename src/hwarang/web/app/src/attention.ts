// Calling for attention: a tone generated in the page (WebAudio, nothing fetched) and a desktop
// notification for each new incident at or above the severity the user chose, and again when an
// unacknowledged incident is escalated across it. The choice is kept in the browser.
import { h } from './dom';
import { defineStrings, t } from './i18n';
import { incidentTitle } from './incident_text';
import { SEVERITIES, type Incident, type Severity } from './types';

defineStrings({
  ko: {
    alert_label: '경보', alert_off: '끄기', alert_at: '{severity} 이상',
    alert_title: '새 상황: {severity}', alert_escalated: '미접수 상황 상향: {severity}',
    alert_blocked: '브라우저가 알림을 막았습니다 (소리만 울립니다)',
  },
  en: {
    alert_label: 'Alert', alert_off: 'Off', alert_at: '{severity} and above',
    alert_title: 'New incident: {severity}', alert_escalated: 'Unacknowledged incident escalated: {severity}',
    alert_blocked: 'The browser blocks notifications (sound only)',
  },
});

const SETTING_KEY = 'hwarang.alertAt';
const TONES_HZ = [880, 660, 880];
const TONE_S = 0.14;

export interface FiredAlert {
  id: string;
  severity: Severity;
  escalated: boolean;
  sound: boolean;
  notified: boolean;
}

function rank(severity: string): number {
  return SEVERITIES.indexOf(severity as Severity);
}

export class Attention {
  /** What fired, oldest first (operations and the browser tests read it). */
  readonly fired: FiredAlert[] = [];
  private audio: AudioContext | null = null;
  private threshold: Severity | '' = (localStorage.getItem(SETTING_KEY) ?? 'high') as Severity | '';
  private readonly select = h('select', { id: 'alert-threshold', 'data-testid': 'alert-threshold' });
  readonly control = h('label', { class: 'alert-setting' }, h('span', { 'data-i18n': 'alert_label' }, t('alert_label')), ' ', this.select);

  constructor(private readonly open: (incidentId: string) => void) {
    this.relabel();
    this.select.addEventListener('change', () => {
      this.threshold = this.select.value as Severity | '';
      localStorage.setItem(SETTING_KEY, this.threshold);
      this.unlockAudio();
      if (this.threshold && 'Notification' in window && Notification.permission === 'default') {
        void Notification.requestPermission();
      }
    });
    // Browsers start audio only after a gesture: the first click or key on the page unlocks it.
    const unlock = (): void => this.unlockAudio();
    document.addEventListener('pointerdown', unlock, { once: true });
    document.addEventListener('keydown', unlock, { once: true });
  }

  relabel(): void {
    const options = [['', t('alert_off')], ...SEVERITIES.map((s) => [s, t('alert_at', { severity: t(`sev_${s}`) })])];
    this.select.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
    this.select.value = this.threshold;
  }

  /** A live change of an incident: alert when it is new to this page, or was just raised across the threshold. */
  consider(incident: Incident, previous: Incident | undefined): void {
    if (!this.threshold || incident.state !== 'new' || rank(incident.severity) < rank(this.threshold)) return;
    const escalated = previous !== undefined && rank(previous.severity) < rank(this.threshold);
    if (previous !== undefined && !escalated) return;
    const sound = this.beep();
    const notified = this.notify(incident, escalated);
    this.fired.push({ id: incident.id, severity: incident.severity, escalated, sound, notified });
    document.documentElement.dataset.alerts = String(this.fired.length);
  }

  private unlockAudio(): void {
    if (!this.audio && 'AudioContext' in window) this.audio = new AudioContext();
    void this.audio?.resume();
  }

  /** Three short tones from an oscillator; false when the page has no audio. */
  private beep(): boolean {
    this.unlockAudio();
    const audio = this.audio;
    if (!audio) return false;
    const start = audio.currentTime + 0.02;
    TONES_HZ.forEach((hz, i) => {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = hz;
      const at = start + i * TONE_S;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.3, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + TONE_S - 0.01);
      osc.connect(gain).connect(audio.destination);
      osc.start(at);
      osc.stop(at + TONE_S);
    });
    return true;
  }

  private notify(incident: Incident, escalated: boolean): boolean {
    if (!('Notification' in window) || Notification.permission !== 'granted') return false;
    const severity = t(`sev_${incident.severity}`);
    const note = new Notification(t(escalated ? 'alert_escalated' : 'alert_title', { severity }), {
      body: incidentTitle(incident),
      tag: incident.id,
    });
    note.onclick = () => {
      window.focus();
      this.open(incident.id);
    };
    return true;
  }
}
