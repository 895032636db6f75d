// Live view of a camera: a "live" button opens a <video> fed by Media Source Extensions from the hub's
// WebSocket /api/v1/incidents/{id}/live (the incident panel) or /api/v1/cameras/{id}/live (the map's
// camera popup, shown in a floating window): fragmented MP4, an init segment then a fragment per GOP.
// The hub authorises, audits and re-checks the view every second; a close code 4403 means the user's
// right ended (condition lifted), a refused handshake (no bytes, 1006) that it was refused. The box's
// data-live-state says which: off, connecting, playing, ended, denied, refused. One view at a time.
import { currentToken } from './auth';
import { h } from './dom';
import { defineStrings, t } from './i18n';

defineStrings({
  ko: { live_open: '실시간 영상', live_close: '실시간 종료', live_starting: '실시간 영상 연결 중…', live_ended: '실시간 영상 종료', live_denied: '이 카메라의 실시간 영상을 볼 권한이 없습니다.', live_unsupported: '이 브라우저는 실시간 영상을 재생할 수 없습니다.', live_refused: '실시간 영상이 거부되었습니다 (권한 없음 또는 사용 불가).', live_camera: '카메라 실시간 영상', live_window_close: '닫기' },
  en: { live_open: 'Live view', live_close: 'Stop live', live_starting: 'Connecting live view…', live_ended: 'Live view ended', live_denied: 'You may not view this camera live.', live_unsupported: 'This browser cannot play the live view.', live_refused: 'Live view refused (no right to this camera, or not available).', live_camera: 'Camera live view', live_window_close: 'Close' },
});

const CLOSE_FORBIDDEN = 4403;
/** Chasing the live edge: buffer kept past one fragment (for jitter), seconds. */
const LIVE_MARGIN_S = 0.3;
/** Lag past that played at LIVE_CATCH_UP speed (until none is left), and lag past which the view jumps. */
const LIVE_CHASE_S = 0.1;
const LIVE_JUMP_S = 3;
const LIVE_CATCH_UP = 1.25;

interface LiveView { key: string; box: HTMLElement; stop: () => void }
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

/**
 * Keep ``video`` near the live edge; call right after a fragment (``fragmentS`` long) was appended.
 * A fragment holds a whole GOP, so the buffer then reaches at least one fragment past the playing
 * position; anything past that plus a margin is lag the page added (a backlog at start, a stall):
 * play a little faster until it is gone, or jump when seconds behind. Stalls are the price of a
 * small margin: a fragment late by more than it holds the video for a moment (then chased again).
 */
export function chaseLiveEdge(video: HTMLVideoElement, fragmentS: number): void {
  const ranges = video.buffered;
  if (!ranges.length) return;
  const end = ranges.end(ranges.length - 1);
  const target = end - fragmentS - LIVE_MARGIN_S;
  const excess = target - video.currentTime;
  if (excess > LIVE_JUMP_S) {
    video.currentTime = target;
    video.playbackRate = 1;
  } else if (excess > LIVE_CHASE_S) video.playbackRate = LIVE_CATCH_UP;
  else if (excess <= 0) video.playbackRate = 1;
}

/** The live box of an incident panel: a button that opens and stops the camera's live view. */
export function liveBox(incidentId: string): HTMLElement {
  return viewBox(`incident:${incidentId}`, `/api/v1/incidents/${encodeURIComponent(incidentId)}/live`);
}

/** The map's camera live view: a floating window playing ``cameraId`` at once (closing it stops it). */
export function openCameraLive(cameraId: string, name: string): void {
  document.getElementById('camera-live')?.remove();
  const box = viewBox(`camera:${cameraId}`, `/api/v1/cameras/${encodeURIComponent(cameraId)}/live`);
  const close = h('button', { type: 'button', class: 'icon', 'data-testid': 'camera-live-close', title: t('live_window_close') }, '×');
  const frame = h(
    'section',
    { id: 'camera-live', class: 'camera-live', 'data-testid': 'camera-live', 'data-camera-id': cameraId },
    h('header', {}, h('strong', {}, `${t('live_camera')}: ${name}`), close),
    box,
  );
  close.addEventListener('click', () => {
    if (shown?.box === box) shown.stop();
    frame.remove();
  });
  document.body.append(frame);
  const running = box.dataset.liveState === 'connecting' || box.dataset.liveState === 'playing';
  if (!running) (box.querySelector('.live-button') as HTMLButtonElement).click();
}

function viewBox(key: string, path: string): HTMLElement {
  if (shown?.key === key) return shown.box;
  shown?.stop();
  const status = h('p', { class: 'muted live-status', 'data-testid': 'live-status' });
  const video = h('video', { class: 'clip live', 'data-testid': 'live-video', muted: '', playsinline: '', autoplay: '', hidden: '' });
  video.muted = true;
  const button = h('button', { type: 'button', class: 'live-button', 'data-testid': 'live-button' }, t('live_open'));
  const box = h('div', { class: 'live-box', 'data-testid': 'live-box', 'data-live-state': 'off' }, button, status, video);
  let ws: WebSocket | null = null;
  const stop = (message = '', state = 'ended') => {
    ws?.close();
    ws = null;
    video.pause();
    video.removeAttribute('src');
    video.hidden = true;
    button.textContent = t('live_open');
    status.textContent = message;
    box.dataset.liveState = state;
  };
  button.addEventListener('click', () => {
    if (ws) stop(t('live_ended'));
    else ws = open(path, box, video, status, button, (m, state) => { ws = null; stop(m, state); });
  });
  shown = { key, box, stop: () => stop() };
  return box;
}

function open(path: string, box: HTMLElement, video: HTMLVideoElement, status: HTMLElement, button: HTMLElement, ended: (m: string, state: string) => void): WebSocket | null {
  const token = currentToken();
  if (!token) return null;
  if (typeof MediaSource === 'undefined') {
    status.textContent = t('live_unsupported');
    return null;
  }
  const source = new MediaSource();
  const queue: ArrayBuffer[] = [];
  let buffer: SourceBuffer | null = null;
  let bufferedEnd = 0;
  const fragments: number[] = [];
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
      const ranges = video.buffered;
      const end = ranges.length ? ranges.end(ranges.length - 1) : 0;
      if (end > bufferedEnd) {
        // A fragment's length from the second one on (the first may start past 0, or hold a backlog).
        if (bufferedEnd > 0) fragments.push(end - bufferedEnd);
        if (fragments.length > 4) fragments.shift();
        bufferedEnd = end;
        if (fragments.length) chaseLiveEdge(video, Math.max(...fragments));
      }
      pump();
    });
    status.textContent = '';
    box.dataset.liveState = 'playing';
    pump();
  };
  video.src = URL.createObjectURL(source);
  video.hidden = false;
  status.textContent = t('live_starting');
  box.dataset.liveState = 'connecting';
  let received = 0;
  button.textContent = t('live_close');
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const ws = new WebSocket(`${scheme}://${location.host}${path}?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (message) => {
    received += 1;
    queue.push(message.data as ArrayBuffer);
    if (buffer) pump();
    else start();
  };
  source.addEventListener('sourceopen', start);
  ws.onclose = (event) => {
    if (event.code === CLOSE_FORBIDDEN) ended(t('live_denied'), 'denied');
    else if (received === 0 && event.code === 1006) ended(t('live_refused'), 'refused');
    else ended(t('live_ended'), 'ended');
  };
  return ws;
}
