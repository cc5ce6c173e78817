/** The signed-in user, as `/auth/me` and `/auth/login` give it. */
export interface User {
  id: string;
  username: string;
  roles: string[];
}

/**
 * An error answer of the API: its stable code, a message safe to show (English, from the server),
 * and for some refusals a `reason` naming which one it is (e.g. closed-purpose-required).
 */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string, readonly reason?: string) {
    super(message);
  }
}

/** True for the refusal of a closed book's content to a caller who stated no purpose: stating one may help. */
export function needsPurpose(e: unknown): boolean {
  return e instanceof ApiError && e.reason === 'closed-purpose-required';
}

/** The session: who is signed in, the CSRF token to send, and the purpose given for restricted reads. */
export const session = {
  user: null as User | null,
  csrf: null as string | null,
  purpose: sessionStorage.getItem('arkiva.purpose') ?? '',
};

/** Sets the access purpose sent with every read (x-access-purpose); kept for the browser tab. */
export function setPurpose(p: string): void {
  session.purpose = p.trim();
  sessionStorage.setItem('arkiva.purpose', session.purpose);
}

let onUnauthorized: () => void = () => undefined;
/** What to do when the session has ended (the API answers 401). */
export function whenUnauthorized(f: () => void): void {
  onUnauthorized = f;
}

function headers(method: string, json: boolean): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json' };
  if (json) out['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && session.csrf) out['x-csrf-token'] = session.csrf;
  // Header values must be Latin-1: other text (ë, ç, Cyrillic) is sent percent-encoded.
  if (session.purpose) out['x-access-purpose'] = /^[\x20-\x7e]*$/.test(session.purpose) ? session.purpose : encodeURIComponent(session.purpose);
  return out;
}

/**
 * Headers a read outside `api()` must carry (the deep-zoom viewer's tile requests): the access
 * purpose, as every other read sends it.
 */
export function readHeaders(): Record<string, string> {
  const { accept: _json, ...rest } = headers('GET', false);
  return rest;
}

async function toError(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = res.statusText || `HTTP ${res.status}`;
  let field: string | undefined;
  let reason: string | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; field?: string; reason?: string } };
    if (body.error?.code) code = body.error.code;
    if (body.error?.message) message = body.error.message;
    field = body.error?.field;
    reason = body.error?.reason;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(res.status, code, message, field, reason);
}

/** Calls the API with a JSON body (or none) and returns the JSON answer; errors become ApiError. */
export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: headers(method, body !== undefined),
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  return (type.includes('json') ? await res.json() : await res.text()) as T;
}

/** Sends a text body of the given type (a CSV import) and returns the JSON answer; errors become ApiError. */
export async function sendText<T = unknown>(method: string, path: string, text: string, contentType: string): Promise<T> {
  const res = await fetch(path, { method, credentials: 'same-origin', headers: { ...headers(method, false), 'content-type': contentType }, body: text });
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw await toError(res);
  return (await res.json()) as T;
}

/** GET shorthand with query parameters (empty values left out). */
export function get<T = unknown>(path: string, query: Record<string, string | number | boolean | undefined | null> = {}): Promise<T> {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return api<T>('GET', s ? `${path}?${s}` : path);
}

/**
 * Sends a file with XMLHttpRequest, whose upload events give progress (fetch has none), and
 * returns the JSON answer.
 */
export function upload<T>(method: string, path: string, form: FormData, onProgress: (sent: number, total: number) => void): { done: Promise<T>; abort(): void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<T>((resolve, reject) => {
    xhr.open(method, path);
    xhr.withCredentials = true;
    xhr.responseType = 'text';
    for (const [k, v] of Object.entries(headers(method, false))) xhr.setRequestHeader(k, v);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0));
    xhr.addEventListener('load', () => {
      let body: { error?: { code?: string; message?: string; field?: string; reason?: string } } & Record<string, unknown> = {};
      try {
        body = JSON.parse(xhr.responseText || '{}');
      } catch {
        // Not JSON: reported below by status.
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(body as T);
      else {
        if (xhr.status === 401) onUnauthorized();
        reject(new ApiError(xhr.status, body.error?.code ?? `HTTP_${xhr.status}`, body.error?.message ?? `HTTP ${xhr.status}`, body.error?.field, body.error?.reason));
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'ERR_NETWORK', 'network error')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'ERR_ABORTED', 'aborted')));
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

const blobs = new Map<string, Promise<string>>();

/**
 * An API image as a blob: URL. Images are fetched rather than put in <img src> so the request
 * carries the access purpose; pinned (revision) URLs are cached for the page's lifetime.
 */
export function imageUrl(path: string): Promise<string> {
  const cached = blobs.get(path);
  if (cached) return cached;
  const p = (async () => {
    const res = await fetch(path, { credentials: 'same-origin', headers: headers('GET', false) });
    if (!res.ok) throw await toError(res);
    return URL.createObjectURL(await res.blob());
  })();
  if (path.includes('revision=')) blobs.set(path, p);
  p.catch(() => blobs.delete(path));
  return p;
}

/** Downloads an API resource (with the session's headers) as a file. */
export async function download(path: string, filename: string): Promise<void> {
  const res = await fetch(path, { credentials: 'same-origin', headers: headers('GET', false) });
  if (!res.ok) throw await toError(res);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
