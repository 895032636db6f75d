// Session handling against the hub's auth: access token in sessionStorage, renewed through the
// one-use refresh token before it expires; any 401 that a renewal cannot fix returns to login.
import type { TokenResponse } from './types';

const TOKEN_KEY = 'hwarang.token';
const REFRESH_KEY = 'hwarang.refresh';
const RENEW_BEFORE_MS = 60_000;
const RENEW_RETRY_MS = 10_000;

/** An API answer that was not 2xx, with the hub's own explanation (e.g. a 409's allowed states). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`HTTP ${status}: ${detail}`);
  }
}

let token: string | null = null;
let renewing: Promise<boolean> | null = null;
let expiryTimer: number | undefined;
let expiredHandler: () => void = () => {};

export function currentToken(): string | null {
  return token;
}

export function savedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** What to do when the session cannot be kept (back to the login page). */
export function onSessionExpired(handler: () => void): void {
  expiredHandler = handler;
}

export function tokenClaims(value: string | null = token): { sub?: string; exp?: number } {
  try {
    const part = (value ?? '').split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part)) as { sub?: string; exp?: number };
  } catch {
    return {};
  }
}

function store(data: TokenResponse): void {
  token = data.access_token;
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  if (data.refresh_token) sessionStorage.setItem(REFRESH_KEY, data.refresh_token);
}

export type LoginOutcome = 'ok' | 'failed' | 'unavailable';

export async function login(username: string, password: string): Promise<LoginOutcome> {
  let response: Response;
  try {
    const body = new URLSearchParams({ username, password });
    response = await fetch('/api/v1/auth/token', { method: 'POST', body });
  } catch {
    return 'unavailable';
  }
  if (!response.ok) return response.status === 401 ? 'failed' : 'unavailable';
  store((await response.json()) as TokenResponse);
  return 'ok';
}

/** Adopt the token kept in this tab; false when it is (nearly) expired and cannot be renewed. */
export async function resume(saved: string): Promise<boolean> {
  token = saved;
  const exp = tokenClaims().exp;
  if (exp && exp * 1000 - Date.now() < RENEW_BEFORE_MS && !(await renew())) return false;
  scheduleRenew();
  return true;
}

/** Exchange the refresh token for new tokens; true on success. One renewal in flight at a time. */
export function renew(): Promise<boolean> {
  if (renewing) return renewing;
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (!refreshToken) return Promise.resolve(false);
  renewing = (async () => {
    let response: Response;
    try {
      response = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: refreshToken }),
      });
    } catch {
      scheduleRenew(RENEW_RETRY_MS);
      return false;
    }
    if (!response.ok) {
      sessionStorage.removeItem(REFRESH_KEY);
      return false;
    }
    const data = (await response.json()) as TokenResponse;
    if (!token) return false;
    store(data);
    scheduleRenew();
    return true;
  })().finally(() => {
    renewing = null;
  });
  return renewing;
}

export function scheduleRenew(delayMs?: number): void {
  window.clearTimeout(expiryTimer);
  const exp = tokenClaims().exp;
  if (!exp) return;
  const remaining = exp * 1000 - Date.now();
  if (!sessionStorage.getItem(REFRESH_KEY)) {
    expiryTimer = window.setTimeout(expire, Math.max(0, remaining));
    return;
  }
  expiryTimer = window.setTimeout(
    async () => {
      if (token && !(await renew()) && !sessionStorage.getItem(REFRESH_KEY)) expire();
    },
    delayMs ?? Math.max(0, remaining - RENEW_BEFORE_MS),
  );
}

function expire(): void {
  if (token) expiredHandler();
}

/** Forget the session; `revoke` also tells the hub to revoke the refresh token (a user's logout). */
export function clearSession(revoke: boolean): void {
  const refreshToken = sessionStorage.getItem(REFRESH_KEY);
  if (revoke && refreshToken && token) {
    fetch('/api/v1/auth/logout', {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    }).catch(() => {});
  }
  token = null;
  window.clearTimeout(expiryTimer);
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
}

async function errorDetail(response: Response): Promise<string> {
  const body = (await response.json().catch(() => null)) as { message?: unknown; detail?: unknown } | null;
  const detail = body?.message ?? body?.detail;
  if (typeof detail === 'string' && detail) return detail;
  if (Array.isArray(detail)) return detail.map((d) => (d as { msg?: string }).msg ?? String(d)).join('; ');
  return response.statusText || `HTTP ${response.status}`;
}

/** fetch() with the Bearer token; renews once on 401; throws ApiError for any non-2xx answer. */
export async function api(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const { json, ...rest } = init;
  const send = (): Promise<Response> => {
    const headers = new Headers(rest.headers);
    headers.set('Authorization', `Bearer ${token ?? ''}`);
    if (json !== undefined) headers.set('Content-Type', 'application/json');
    return fetch(path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
  };
  let response = await send();
  if (response.status === 401 && token && (await renew())) response = await send();
  if (response.status === 401) {
    expire();
    throw new ApiError(401, 'unauthorized');
  }
  if (!response.ok) throw new ApiError(response.status, await errorDetail(response));
  return response;
}

export async function apiJson<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  return (await (await api(path, init)).json()) as T;
}
