// Client-side routes under /console/ (the server answers index.html for each):
//   /console/                  home
//   /console/actions           the action center (filters in the query)
//   /console/actions/{id}      an action's details
//   /console/identities/{id}   a user page
import { useEffect, useState } from 'preact/hooks';

export const BASE = '/console';

export type Route =
  | { page: 'home' }
  | { page: 'actions'; params: URLSearchParams }
  | { page: 'action'; id: string }
  | { page: 'identity'; id: string }
  | { page: 'missing' };

export function parse(location: Location): Route {
  const path = location.pathname.replace(/\/+$/, '');
  if (path === BASE || path === '') return { page: 'home' };
  if (path === `${BASE}/actions`) return { page: 'actions', params: new URLSearchParams(location.search) };
  const action = path.match(/^\/console\/actions\/([^/]+)$/);
  if (action) return { page: 'action', id: decodeURIComponent(action[1]) };
  const identity = path.match(/^\/console\/identities\/([^/]+)$/);
  if (identity) return { page: 'identity', id: decodeURIComponent(identity[1]) };
  return { page: 'missing' };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((l) => l()));

export function navigate(href: string, replace = false): void {
  if (replace) history.replaceState(null, '', href);
  else history.pushState(null, '', href);
  listeners.forEach((l) => l());
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(window.location));
  useEffect(() => {
    const update = () => setRoute(parse(window.location));
    listeners.add(update);
    return () => void listeners.delete(update);
  }, []);
  return route;
}

export const identityHref = (id: string) => `${BASE}/identities/${encodeURIComponent(id)}`;
export const actionHref = (id: string) => `${BASE}/actions/${encodeURIComponent(id)}`;

// A real link that the app follows itself (modifier clicks open a new tab as usual).
export function follow(event: MouseEvent, href: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  event.preventDefault();
  navigate(href);
}
