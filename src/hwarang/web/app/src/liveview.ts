// Live view of an incident's camera: a "live" button opens a <video> fed by Media Source Extensions
// from the hub's WebSocket /api/v1/incidents/{id}/live (fragmented MP4: init segment, then a fragment
// per GOP). The hub authorises, audits and re-checks the view every second; a close code 4403 means
// the user's right ended (condition lifted), shown as such. One view at a time; re-render keeps it.
import { currentToken } from './auth';
import { h } from './dom';
import { defineStrings, t } from './i18n';

defineStrings({
  ko: { live_open: '실시간 영상', live_close: '실시간 종료', live_starting: '실시간 영상 연결 중…', live_ended: '실시간 영상 종료', live_denied: '이 카메라의 실시간 영상을 볼 권한이 없습니다.', live_unsupported: '이 브라우저는 실시간 영상을 재생할 수 없습니다.' },
  en: { live_open: 'Live view', live_close: 'Stop live', live_starting: 'Connecting live view…', live_ended: 'Live view ended', live_denied: 'You may not view this camera live.', live_unsupported: 'This browser cannot play the live view.' },
});

const CLOSE_FORBIDDEN = 4403;

interface LiveView { incidentId: string; box: HTMLElement; stop: () => void }
let shown: LiveView | null = null;

/** The codec string of an fMP4 init segment's avcC box (e.g. avc1.64001f). */
export function codecOf(init: Uint8Array): string {
  for (let i = 0; i + 7 < init.length; i += 1) {
    if (init[i] === 0x61 && init[i + 1] === 0x76 && init[i + 2] === 0x63 && init[i + 3] === 0x43) {
      const hex = (n: number) => n.toString(16).padStart(2, '0');
      return `avc1.${hex(init[i + 5])}${hex(init[i + 6])}${hex(init[i + 7])}`;
    }
  }
  return 'avc1.42e01e';
}

/** The live box of an incident panel: a button that opens and stops the camera's live view. */
export function liveBox(incidentId: string): HTMLElement {
  if (shown?.incidentId === incidentId) return shown.box;
  shown?.stop();
  const status = h('p', { class: 'muted live-status', 'data-testid': 'live-status' });
  const video = h('video', { class: 'clip live', 'data-testid': 'live-video', muted: '', playsinline: '', autoplay: '', hidden: '' });
  video.muted = true;
  const button = h('button', { type: 'button', class: 'live-button', 'data-testid': 'live-button' }, t('live_open'));
  const box = h('div', { class: 'live-box' }, button, status, video);
  let ws: WebSocket | null = null;
  const stop = (message = '') => {
    ws?.close();
    ws = null;
    video.pause();
    video.removeAttribute('src');
    video.hidden = true;
    button.textContent = t('live_open');
    status.textContent = message;
  };
  button.addEventListener('click', () => {
    if (ws) stop(t('live_ended'));
    else ws = open(incidentId, video, status, button, (m) => { ws = null; stop(m); });
  });
  shown = { incidentId, box, stop: () => stop() };
  return box;
}

function open(incidentId: string, video: HTMLVideoElement, status: HTMLElement, button: HTMLElement, ended: (m: string) => void): WebSocket | null {
  const token = currentToken();
  if (!token) return null;
  if (typeof MediaSource === 'undefined') {
    status.textContent = t('live_unsupported');
    return null;
  }
  const source = new MediaSource();
  const queue: ArrayBuffer[] = [];
  let buffer: SourceBuffer | null = null;
  const pump = () => {
    if (!buffer || buffer.updating || queue.length === 0) return;
    buffer.appendBuffer(queue.shift() as ArrayBuffer);
    if (video.paused) void video.play().catch(() => undefined);
  };
  const start = () => {
    if (buffer || source.readyState !== 'open' || queue.length === 0) return;
    buffer = source.addSourceBuffer(`video/mp4; codecs="${codecOf(new Uint8Array(queue[0]))}"`);
    buffer.mode = 'sequence';
    buffer.addEventListener('updateend', () => {
      // Stay near the live edge: skip ahead when more than 3 s behind.
      if (video.buffered.length && video.buffered.end(0) - video.currentTime > 3) video.currentTime = video.buffered.end(0) - 0.5;
      pump();
    });
    status.textContent = '';
    pump();
  };
  video.src = URL.createObjectURL(source);
  video.hidden = false;
  status.textContent = t('live_starting');
  button.textContent = t('live_close');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}/api/v1/incidents/${incidentId}/live?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (message) => {
    queue.push(message.data as ArrayBuffer);
    if (buffer) pump();
    else start();
  };
  source.addEventListener('sourceopen', start);
  ws.onclose = (event) => {
    if (event.code === CLOSE_FORBIDDEN) ended(t('live_denied'));
    else ended(t('live_ended'));
  };
  return ws;
}
