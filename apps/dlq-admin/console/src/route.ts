/**
 * The console's pages as URL fragments, so every view (with its filters)
 * has a link, and back/forward work without a server-side router:
 *
 *   #/                                              overview
 *   #/queues/<topic>/<subscription>?<filter>        records of a queue
 *   #/queues/<topic>/<subscription>/<partition>/<offset>   one record
 *   #/audit                                         audit log
 *   #/alerts                                        alert rules
 */
import { useEffect, useState } from 'preact/hooks';
import type { FilterInput } from './api.js';

export type Route =
  | { page: 'overview' }
  | { page: 'records'; topic: string; subscription: string; filter: FilterInput }
  | { page: 'record'; topic: string; subscription: string; partition: number; offset: number }
  | { page: 'audit' }
  | { page: 'alerts' }
  | { page: 'missing'; hash: string };

const textFilters = ['reason', 'errorClass', 'key', 'valueContains'] as const;
const numberFilters = ['fromTimeMs', 'toTimeMs', 'minAttempts'] as const;

/** The filter in a fragment's query. */
export function filterFromParams(params: URLSearchParams): FilterInput {
  const filter: FilterInput = {};
  for (const name of textFilters) {
    const value = params.get(name);
    if (value !== null && value !== '') filter[name] = value;
  }
  for (const name of numberFilters) {
    const value = Number(params.get(name) ?? '');
    if (params.get(name) && Number.isFinite(value)) filter[name] = value;
  }
  return filter;
}

/** Parses `location.hash`. */
export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter((part) => part !== '').map(decodeURIComponent);
  if (parts.length === 0) return { page: 'overview' };
  if (parts[0] === 'audit' && parts.length === 1) return { page: 'audit' };
  if (parts[0] === 'alerts' && parts.length === 1) return { page: 'alerts' };
  if (parts[0] === 'queues' && parts.length === 3) {
    return { page: 'records', topic: parts[1] ?? '', subscription: parts[2] ?? '', filter: filterFromParams(new URLSearchParams(query)) };
  }
  if (parts[0] === 'queues' && parts.length === 5) {
    const partition = Number(parts[3]);
    const offset = Number(parts[4]);
    if (Number.isInteger(partition) && Number.isInteger(offset)) {
      return { page: 'record', topic: parts[1] ?? '', subscription: parts[2] ?? '', partition, offset };
    }
  }
  return { page: 'missing', hash };
}

/** The fragment of a route. */
export function href(route: Route): string {
  const queue = (topic: string, subscription: string): string => `#/queues/${encodeURIComponent(topic)}/${encodeURIComponent(subscription)}`;
  switch (route.page) {
    case 'overview':
      return '#/';
    case 'audit':
      return '#/audit';
    case 'alerts':
      return '#/alerts';
    case 'records': {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(route.filter)) if (value !== undefined && value !== '') params.set(name, String(value));
      const query = params.toString();
      return `${queue(route.topic, route.subscription)}${query === '' ? '' : `?${query}`}`;
    }
    case 'record':
      return `${queue(route.topic, route.subscription)}/${route.partition}/${route.offset}`;
    case 'missing':
      return route.hash;
  }
}

/** The current route, following `hashchange`. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => { setRoute(parseRoute(location.hash)); };
    addEventListener('hashchange', update);
    return () => { removeEventListener('hashchange', update); };
  }, []);
  return route;
}

/** Goes to `route` (a new history entry). */
export function navigate(route: Route): void {
  location.hash = href(route);
}
