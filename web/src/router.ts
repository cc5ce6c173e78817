/** What a view gets: the element to fill, path parameters and the query string. */
export interface ViewContext {
  el: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Registers something to stop when the view is left (polling, listeners). */
  onLeave(f: () => void): void;
}

/** A screen: fills `ctx.el`. */
export type View = (ctx: ViewContext) => void | Promise<void>;

interface Route {
  re: RegExp;
  keys: string[];
  view: View;
  roles: readonly string[] | 'authenticated';
}

const routes: Route[] = [];

/** Declares a screen at a hash path like `/books/:id` for the given roles. */
export function route(pattern: string, roles: Route['roles'], view: View): void {
  const keys: string[] = [];
  const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_m, k: string) => {
    keys.push(k);
    return '([^/]+)';
  })}$`);
  routes.push({ re, keys, view, roles });
}

/** Goes to a hash path. */
export function go(path: string): void {
  if (location.hash === `#${path}`) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = path;
}

/** The current hash path and query. */
export function current(): { path: string; query: URLSearchParams } {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = raw.split('?', 2) as [string, string | undefined];
  return { path, query: new URLSearchParams(qs ?? '') };
}

/** Finds the route of a path. */
export function match(path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) return { route: r, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)])) };
  }
  return undefined;
}
