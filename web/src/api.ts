// Every request the console makes: same origin, the session cookie sent by
// the browser, the CSRF cookie repeated in X-CSRF-Token on every change.
// Failures become ApiError with the problem document's own `detail`.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly detail: string,
  ) {
    super(detail);
  }
}

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

// Called when the server no longer knows the session (401).
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

function cookie(name: string): string {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return '';
}

async function problemOf(response: Response): Promise<ApiError> {
  let slug = 'http';
  let detail = `The server answered ${response.status} ${response.statusText}.`;
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      const doc = (await response.json()) as { type?: unknown; detail?: unknown };
      if (typeof doc.detail === 'string' && doc.detail) detail = doc.detail;
      if (typeof doc.type === 'string') slug = doc.type.replace('urn:cordon:problem:', '');
    } catch {
      // The body was not the problem document it claimed to be: keep the status line.
    }
  }
  return new ApiError(response.status, slug, detail);
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['X-CSRF-Token'] = cookie('cordon_csrf');
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      redirect: 'error',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cordon cannot be reached. Check the connection; nothing was changed by this attempt.');
  }
  if (!response.ok) {
    const error = await problemOf(response);
    // Sign-in and the first "who am I" answer 401 to someone not signed in yet.
    if (response.status === 401 && path !== '/console/session' && path !== '/api/v1/me')
      signedOutListeners.forEach((l) => l());
    throw error;
  }
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string) => request<T>('GET', path);
export const post = <T>(path: string, body: unknown) => request<T>('POST', path, body);

export function query(params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) q.set(key, value);
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function describe(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  return 'Something went wrong in the console; reload the page.';
}
