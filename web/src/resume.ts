/**
 * Work kept across a session that ended: when the API answers 401, what was typed into the
 * screen's forms and where the user was are kept for the browser tab (sessionStorage), so that
 * signing in again returns there with the forms filled in. Passwords and files are never kept, and
 * what was kept goes back only to the user who typed it.
 */

const KEY = 'arkiva.resume';

interface Kept {
  user: string;
  /** The hash path with its query, e.g. `/records?name=x`. */
  path: string;
  fields: { form: number; name: string; value?: string; checked?: boolean }[];
}

// Controls whose content must not outlive the session, or cannot be put back by a script.
const SKIPPED = new Set(['password', 'file', 'hidden', 'submit', 'button', 'reset', 'image']);

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

function controls(form: HTMLFormElement): Control[] {
  return [...form.elements].filter((e): e is Control =>
    (e instanceof HTMLInputElement && !SKIPPED.has(e.type)) || e instanceof HTMLSelectElement || e instanceof HTMLTextAreaElement);
}

// A control's place in its form: its name (and value, for a box among several of one name), else
// its position, so the same screen drawn again finds it.
function nameOf(c: Control, i: number): string {
  const base = c.name || c.id || `#${i}`;
  return c instanceof HTMLInputElement && (c.type === 'checkbox' || c.type === 'radio') ? `${base}=${c.value}` : base;
}

/** Keeps what is typed in the forms inside `root`, and the current place, for `user`. */
export function keepWork(user: string, path: string, root: ParentNode): void {
  const fields: Kept['fields'] = [];
  root.querySelectorAll('form').forEach((form, f) => {
    controls(form).forEach((c, i) => {
      if (c instanceof HTMLInputElement && (c.type === 'checkbox' || c.type === 'radio')) fields.push({ form: f, name: nameOf(c, i), checked: c.checked });
      else fields.push({ form: f, name: nameOf(c, i), value: c.value });
    });
  });
  sessionStorage.setItem(KEY, JSON.stringify({ user, path, fields } satisfies Kept));
}

function kept(): Kept | null {
  try {
    const v = JSON.parse(sessionStorage.getItem(KEY) ?? 'null') as Kept | null;
    return v && typeof v.user === 'string' && typeof v.path === 'string' && Array.isArray(v.fields) ? v : null;
  } catch {
    return null;
  }
}

/** Whether work is kept from a session that ended (the sign-in screen says so). */
export function sessionEnded(): boolean {
  return kept() !== null;
}

/**
 * Where `user` should land after signing in: the place they were when their session ended, or
 * undefined. Work another user kept is dropped, never shown to this one.
 */
export function resumePath(user: string): string | undefined {
  const k = kept();
  if (!k) return undefined;
  if (k.user !== user) {
    forgetWork();
    return undefined;
  }
  return k.path;
}

/**
 * Fills the forms inside `root` with what `user` typed at `path` before the session ended, and
 * forgets it. True when something was put back.
 */
export function restoreWork(user: string, path: string, root: ParentNode): boolean {
  const k = kept();
  if (!k || k.user !== user || k.path !== path) return false;
  forgetWork();
  let restored = false;
  root.querySelectorAll('form').forEach((form, f) => {
    const mine = new Map(k.fields.filter((x) => x.form === f).map((x) => [x.name, x]));
    controls(form).forEach((c, i) => {
      const x = mine.get(nameOf(c, i));
      if (!x) return;
      if (c instanceof HTMLInputElement && (c.type === 'checkbox' || c.type === 'radio')) {
        if (x.checked === undefined || c.checked === x.checked) return;
        c.checked = x.checked;
      } else {
        if (x.value === undefined || c.value === x.value) return;
        c.value = x.value;
      }
      restored = true;
      // Views listen to input (suggestions, validation); change is left alone, as some navigate on it.
      c.dispatchEvent(new Event('input', { bubbles: true }));
    });
  });
  return restored;
}

/** Forgets kept work (after restoring it, or on signing out). */
export function forgetWork(): void {
  sessionStorage.removeItem(KEY);
}
