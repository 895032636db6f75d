// The live WebSocket: hello, resume(after the last seen seq), incidents; reconnects with backoff
// and resumes from the last seq it saw, so nothing is missed across a dropped connection. The hub
// also says `access` when the user's own grants or shares changed (a condition lifted, a share
// revoked, a grant reaching its end), so evidence on screen is withdrawn without waiting for a poll.
import { currentToken, renew } from './auth';
import type { Incident, LiveMessage } from './types';

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
const PING_MS = 25_000;
const CLOSE_UNAUTHORIZED = 4401;

export type ConnState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface LiveHandlers {
  lastSeq: () => number;
  incident: (incident: Incident) => void;
  state: (state: ConnState) => void;
  truncated: () => void;
  unauthorized: () => void;
  access: () => void;
}

export class LiveConnection {
  private ws: WebSocket | null = null;
  private backoffMs = BACKOFF_MIN_MS;
  private reconnectTimer: number | undefined;
  private pingTimer: number | undefined;
  private running = false;
  private held = false;

  constructor(private readonly handlers: LiveHandlers) {}

  start(): void {
    this.running = true;
    this.held = false;
    this.handlers.state('connecting');
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.drop();
    this.handlers.state('offline');
  }

  /** Close the socket and stay disconnected until `release()` (operations and tests). */
  hold(): void {
    this.held = true;
    this.drop();
    this.handlers.state('offline');
  }

  release(): void {
    if (!this.running || !this.held) return;
    this.held = false;
    this.handlers.state('reconnecting');
    this.connect();
  }

  /** Close the socket as a network failure would; it reconnects and resumes by itself. */
  breakConnection(): void {
    this.ws?.close(4000, 'closed by the page');
  }

  private drop(): void {
    window.clearTimeout(this.reconnectTimer);
    window.clearInterval(this.pingTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000);
  }

  private connect(): void {
    const token = currentToken();
    if (!token || !this.running || this.held) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(token)}`);
    this.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'resume', after_seq: this.handlers.lastSeq() }));
    ws.onmessage = (message) => this.onMessage(JSON.parse(String(message.data)) as LiveMessage);
    ws.onclose = (event) => {
      if (this.ws !== ws) return;
      this.ws = null;
      window.clearInterval(this.pingTimer);
      if (event.code === CLOSE_UNAUTHORIZED) {
        void renew().then((ok) => (ok ? this.scheduleReconnect() : this.handlers.unauthorized()));
        return;
      }
      this.scheduleReconnect();
    };
  }

  private onMessage(message: LiveMessage): void {
    switch (message.type) {
      case 'hello':
        this.handlers.state('live');
        this.backoffMs = BACKOFF_MIN_MS;
        window.clearInterval(this.pingTimer);
        this.pingTimer = window.setInterval(() => this.ws?.send(JSON.stringify({ type: 'ping' })), PING_MS);
        break;
      case 'incident':
        this.handlers.incident(message.incident);
        break;
      case 'truncated':
        this.handlers.truncated();
        break;
      case 'access':
        this.handlers.access();
        break;
      case 'error':
        console.warn('hub:', message.detail);
        break;
      default:
        break;
    }
  }

  private scheduleReconnect(): void {
    if (!this.running || this.held) return;
    this.handlers.state('reconnecting');
    const delay = this.backoffMs * (0.75 + Math.random() * 0.5);
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    window.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = window.setTimeout(() => this.connect(), delay);
  }
}
