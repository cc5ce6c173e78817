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
  /** `'public'`: shown without signing in (the verification of extracts). */
  roles: readonly string[] | 'authenticated' | 'public';
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

/**
 * Puts keyboard focus on a new screen's heading (issue 22 point 9), so keyboard and screen-reader
 * users start on the screen instead of the page body with the header's links to Tab through again.
 * A screen that asks for a field (`autofocus`, e.g. sign-in) or already focused one (keying) keeps it.
 */
export function focusHeading(main: HTMLElement): void {
  const active = document.activeElement;
  if (active && active !== document.body && active !== main && main.contains(active)) return;
  const wanted = main.querySelector<HTMLElement>('[autofocus]');
  if (wanted) return wanted.focus();
  const heading = main.querySelector<HTMLElement>('h1') ?? main.querySelector<HTMLElement>('h2');
  if (!heading) return main.focus();
  // -1: focusable from script without becoming a Tab stop of its own.
  if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
  heading.focus();
}
