import { api, ApiError, get, session } from '../api.ts';
import { h, replace } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import type { Box, RegistryRecord } from '../types.ts';
import { apiImage, errorText, notice } from '../widgets.ts';

/** A layout column as the keying API gives it. */
export interface LayoutColumn {
  key: string;
  field: string;
  label?: { sq?: string; sr?: string };
}

/** What GET /keying/next hands a keyer: the row, the layout's columns and the book; never anyone's answers. */
export interface KeyingTask {
  zone: { id: string; bookId: string; pageSequence: number; box: Box; cells: Box[]; layoutKey: string; layoutVersion: number };
  layout: { key: string; version: number; name: string; columns: LayoutColumn[] };
  book: { registerType: string; municipality: string; yearFrom: number; yearTo: number };
}

/** One answer: the value as written, or illegible or blank. */
export type FieldAnswer = { value: string } | { answer: 'illegible' | 'blank' };

/** A date warning of the keying API. */
export interface KeyingWarning {
  column: string;
  code: string;
  message: string;
}

/** A registry record that may be an entry's, with its score (0..1). */
export interface Candidate {
  record: RegistryRecord;
  score: number;
  reasons: string[];
}

/** Typed alone in a field, these answer "illegible" and "blank" (F2 and F3 type them). */
export const ILLEGIBLE = '?';
export const BLANK = '-';

/** The answer a field's text gives, or null when nothing is typed. */
export function answerOf(text: string): FieldAnswer | null {
  const v = text.trim();
  if (!v) return null;
  if (v === ILLEGIBLE) return { answer: 'illegible' };
  if (v === BLANK) return { answer: 'blank' };
  return { value: v };
}

/** An answer for people: the value, or the explicit answer in words. */
export function answerText(a: FieldAnswer | undefined): string {
  if (!a) return '–';
  return 'value' in a ? a.value : a.answer === 'illegible' ? t('kyIllegible') : t('kyBlank');
}

/** A column's heading: the printed form's heading in Albanian, else the field's name. */
export function columnLabel(c: LayoutColumn): string {
  const field = tx('kf_', c.field);
  const name = field.charAt(0).toUpperCase() + field.slice(1);
  return currentLang() === 'sq' && c.label?.sq ? c.label.sq : name;
}

const NAME_FIELDS = ['given_name', 'surname', 'father', 'mother', 'spouse', 'spouse_given_name', 'spouse_surname'];
const DATE_FIELDS = ['event_date', 'registration_date'];
const CANDIDATE_FIELDS = ['given_name', 'surname', 'father', 'event_date'];

/** Whether the signed-in user may read registry records (the API's PERSONAL_READERS), and link (clerks). */
export function mayReadRecords(): boolean {
  return Boolean(session.user?.roles.some((r) => r === 'clerk' || r === 'records_manager'));
}
function mayLink(): boolean {
  return Boolean(session.user?.roles.includes('clerk'));
}

/** What a candidate search needs: the book's place and years, the event, the names and the date (ISO) as keyed. */
export interface CandidateQuery {
  municipality: string;
  yearFrom: number;
  yearTo: number;
  eventType: string;
  surname: string;
  givenName: string;
  father?: string;
  eventDate?: string;
}

/** The panel of registry candidates, best first, chosen or linked with Alt+1..3. */
export type CandidatePanel = HTMLElement & {
  /** Looks candidates up again (nothing when no name is known yet). */
  show(q: CandidateQuery | null): Promise<void>;
  /** Marks candidate i (0-based) as chosen, or unmarks it; returns the chosen one. */
  choose(i: number): Candidate | null;
  chosen(): Candidate | null;
};

const KEYS_SHOWN = 3;

/** The candidates panel; `onChoose` runs when one is chosen by key or button. */
export function candidatePanel(onChoose: (c: Candidate | null) => void | Promise<void>): CandidatePanel {
  const list = h('ol', { class: 'candidates-list', 'data-testid': 'candidates' });
  const status = h('p', { class: 'hint' }, mayReadRecords() ? t('kyCandidatesWait') : t('kyCandidatesNotAllowed'));
  const el = h('section', { class: 'card candidates', 'aria-live': 'polite', 'aria-label': t('kyCandidates') },
    h('h2', null, t('kyCandidates')), status, list) as CandidatePanel;
  let shown: Candidate[] = [];
  let chosen: number | null = null;
  let asked = '';
  const draw = () => {
    replace(list, shown.map((c, i) => h('li', { class: chosen === i ? 'chosen' : '', 'aria-current': chosen === i ? 'true' : false },
      h('button', { type: 'button', class: 'link', tabindex: '-1', onclick: () => void choose(i) },
        i < KEYS_SHOWN ? h('kbd', null, `Alt+${i + 1}`) : null, ' ',
        h('strong', null, c.record.personNames.join(', ') || '–'),
        ` · ${c.record.eventDate ?? '–'} · ${c.record.municipality ?? '–'} · ${c.record.system}/${c.record.recordId}`),
      h('span', { class: 'score', 'data-testid': 'candidate-score' }, `${Math.round(c.score * 100)}%`),
      c.reasons.length ? h('small', null, ` ${c.reasons.join(', ')}`) : null)));
  };
  const choose = (i: number): Candidate | null => {
    if (i >= shown.length) return chosen === null ? null : shown[chosen]!;
    chosen = chosen === i ? null : i;
    draw();
    const c = chosen === null ? null : shown[chosen]!;
    void onChoose(c);
    return c;
  };
  el.choose = choose;
  el.chosen = () => (chosen === null ? null : shown[chosen] ?? null);
  el.show = async (q) => {
    if (!mayReadRecords()) return;
    if (!q || (!q.surname && !q.givenName)) {
      shown = [];
      chosen = null;
      status.textContent = t('kyCandidatesWait');
      return draw();
    }
    const key = JSON.stringify(q);
    if (key === asked) return;
    asked = key;
    try {
      const r = await get<{ candidates: Candidate[] }>('/records/candidates', { ...q, limit: 5 });
      if (asked !== key) return;
      const keep = chosen === null ? null : shown[chosen]?.record.id;
      shown = r.candidates;
      const again = shown.findIndex((c) => c.record.id === keep);
      chosen = again >= 0 ? again : null;
      status.textContent = shown.length ? t('kyCandidatesKeys') : t('kyNoCandidates');
      draw();
    } catch (e) {
      status.textContent = `${t('error')}: ${errorText(e)}`;
    }
  };
  return el;
}

/** Links a verified entry to a registry record as its original entry. */
export async function linkEntry(entryId: string, recordId: string): Promise<void> {
  await api('POST', '/links', { recordId, entryId, linkType: 'original-entry' });
}

/** Alt+1..9 as a 0-based index, or null (e.code, so the keyboard layout does not matter). */
export function altDigit(e: KeyboardEvent): number | null {
  if (!e.altKey || e.ctrlKey || e.metaKey) return null;
  const m = /^(?:Digit|Numpad)([1-9])$/.exec(e.code);
  return m ? Number(m[1]) - 1 : null;
}

/** Suggestions for a field from the gazetteer (places) or from verified keyed names; [] for other fields. */
async function suggestionsFor(field: string, q: string): Promise<string[]> {
  if (field === 'place') {
    const r = await get<{ places: { sq: string; sr: string; srCyrl: string }[] }>('/gazetteer/places', { q, limit: 8 });
    return [...new Set(r.places.flatMap((p) => [p.sq, p.sr, p.srCyrl]))];
  }
  if (NAME_FIELDS.includes(field)) {
    const r = await get<{ suggestions: { value: string }[] }>('/keying/suggestions', { field, q, limit: 8 });
    return r.suggestions.map((s) => s.value);
  }
  return [];
}

/**
 * Completes a field in place: the rest of the first suggestion that starts with what was typed
 * (case aside) is added and selected, so typing on replaces it, Backspace drops it, and Tab
 * keeps it and moves on; what was typed stays exactly as typed.
 */
function completeInline(input: HTMLInputElement, typed: string, options: readonly string[]): void {
  if (input.value !== typed || input.selectionStart !== typed.length || document.activeElement !== input) return;
  const low = typed.toLocaleLowerCase();
  const s = options.find((o) => o.length > typed.length && o.toLocaleLowerCase().startsWith(low));
  if (!s) return;
  input.value = typed + s.slice(typed.length);
  input.setSelectionRange(typed.length, input.value.length, 'backward');
}

/** The next (or previous) keying field of a form, for F2/F3 which answer and move on. */
function moveFocus(form: HTMLFormElement, from: HTMLInputElement, step: 1 | -1): void {
  const inputs = [...form.querySelectorAll<HTMLInputElement>('input[data-column]')];
  const next = inputs[inputs.indexOf(from) + step];
  (next ?? form.querySelector<HTMLButtonElement>('button[type=submit]'))?.focus();
}

/** Marks a field answered illegible or blank, so the answer is seen, not only a ? or a -. */
function tagAnswer(input: HTMLInputElement, tag: HTMLElement): void {
  const a = answerOf(input.value);
  const explicit = a && 'answer' in a ? a.answer : null;
  tag.textContent = explicit ? (explicit === 'illegible' ? t('kyIllegible') : t('kyBlank')) : '';
  input.classList.toggle('explicit', Boolean(explicit));
}

/** Reads a keying form: answers by column, and the first column left empty. */
export function readForm(columns: readonly LayoutColumn[], inputs: Map<string, HTMLInputElement>): { fields: Record<string, FieldAnswer>; empty: string | null } {
  const fields: Record<string, FieldAnswer> = {};
  let empty: string | null = null;
  for (const c of columns) {
    const a = answerOf(inputs.get(c.key)!.value);
    if (a) fields[c.key] = a;
    else empty ??= c.key;
  }
  return { fields, empty };
}

/** The candidate query of a keyed entry: names and date of the answers, place and years of the book. */
export function candidateQuery(task: Pick<KeyingTask, 'book'>, columns: readonly LayoutColumn[], fields: Record<string, FieldAnswer | undefined>, isoDates: Record<string, string | null>): CandidateQuery | null {
  const value = (field: string) => {
    const c = columns.find((x) => x.field === field);
    const a = c ? fields[c.key] : undefined;
    return a && 'value' in a ? a.value : '';
  };
  const surname = value('surname');
  const givenName = value('given_name');
  if (!surname && !givenName) return null;
  const dateCol = columns.find((c) => c.field === 'event_date');
  const eventDate = dateCol ? isoDates[dateCol.key] ?? undefined : undefined;
  const father = value('father');
  return {
    municipality: task.book.municipality, yearFrom: task.book.yearFrom, yearTo: task.book.yearTo, eventType: task.book.registerType,
    surname, givenName, ...(father ? { father } : {}), ...(eventDate ? { eventDate } : {}),
  };
}

/**
 * Keyers: the next row of the queue, its crop large above one field per layout column. Tab moves
 * through the fields, Enter saves and opens the next row; F2 answers "illegible", F3 "blank";
 * places and names complete from the gazetteer and from verified entries. Candidates from the
 * registry show beside the fields; Alt+1..3 chooses one, and it is linked when this keying is the
 * one that verifies the entry (the second, agreeing one). Otherwise the entry is not an entry yet:
 * the arbitrator's screen and the entries search offer the link once it is.
 */
export async function keyingView({ el, query }: ViewContext): Promise<void> {
  const bookId = query.get('bookId') ?? undefined;
  const msg = notice();
  const stage = h('div', { class: 'keying-stage' });
  const saved = h('section', { class: 'last-saved', 'data-testid': 'last-saved', 'aria-live': 'polite' });
  replace(el, h('h1', null, t('kyTitle')), h('p', { class: 'hint keys', id: 'keying-keys' }, t('kyKeys')), msg, stage, saved);
  // Register rows are numbered in sequence: the next row's number is offered, selected, so a keyer
  // whose row says otherwise simply types over it.
  let lastNumber: { bookId: string; n: number } | null = null;

  const open = async (): Promise<void> => {
    const { task } = await get<{ task: KeyingTask | null }>('/keying/next', { bookId });
    if (!task) {
      replace(stage, h('p', { class: 'card', 'data-testid': 'no-task' }, t('kyNothing')));
      return;
    }
    draw(task);
  };

  const draw = (task: KeyingTask): void => {
    const { zone, layout, book } = task;
    const inputs = new Map<string, HTMLInputElement>();
    const warnEls = new Map<string, HTMLElement>();
    let isoDates: Record<string, string | null> = {};
    const panel = candidatePanel((c) => { if (c) msg.ok(`${t('kyChosen')}: ${c.record.personNames.join(', ')}`); else msg.clear(); });
    const submit = h('button', { type: 'submit' }, t('kySave'));
    const refreshCandidates = () => void panel.show(candidateQuery(task, layout.columns, readForm(layout.columns, inputs).fields, isoDates));
    const checkDates = async () => {
      const dates = layout.columns.filter((c) => DATE_FIELDS.includes(c.field));
      const fields = Object.fromEntries(dates.map((c) => [c.key, answerOf(inputs.get(c.key)!.value)]).filter(([, a]) => a));
      const r = await api<{ warnings: KeyingWarning[]; dates: Record<string, string | null> }>('POST', `/keying/zones/${zone.id}/check`, { fields });
      isoDates = r.dates;
      for (const c of dates) replace(warnEls.get(c.key)!, r.warnings.filter((w) => w.column === c.key).map((w) => h('span', { class: 'warn' }, tx('kyw_', w.code))));
    };

    const fieldEls = layout.columns.map((c, i) => {
      const id = `k-${c.key}`;
      const suggest = c.field === 'place' || NAME_FIELDS.includes(c.field);
      const list = suggest ? h('datalist', { id: `${id}-list` }) : null;
      const input = h('input', {
        id, name: c.key, 'data-column': c.key, 'data-field': c.field, autocomplete: 'off', spellcheck: 'false', maxlength: '500',
        'aria-describedby': `${id}-w keying-keys`, ...(list ? { list: list.id } : {}),
      });
      if (c.field === 'entry_number' && lastNumber?.bookId === zone.bookId) {
        input.value = String(lastNumber.n + 1);
        input.dataset.offered = 'true';
      }
      const tag = h('span', { class: 'answer-tag', 'aria-hidden': 'true' });
      const warn = h('span', { id: `${id}-w`, class: 'field-warnings', 'data-testid': `warnings-${c.key}` });
      inputs.set(c.key, input);
      warnEls.set(c.key, warn);
      input.addEventListener('focus', () => { if (input.dataset.offered) input.select(); });
      input.addEventListener('input', (e) => {
        delete input.dataset.offered;
        tagAnswer(input, tag);
        const typed = input.value;
        if (!suggest || !typed.trim() || typed === ILLEGIBLE || typed === BLANK) return;
        const inserting = (e as InputEvent).inputType?.startsWith('insert') ?? true;
        void suggestionsFor(c.field, typed.trim()).then((opts) => {
          if (list) replace(list, opts.map((o) => h('option', { value: o })));
          if (inserting) completeInline(input, typed, opts);
        }, () => undefined);
      });
      input.addEventListener('change', () => {
        if (DATE_FIELDS.includes(c.field)) void checkDates().then(refreshCandidates, (err) => msg.fail(err));
        else if (CANDIDATE_FIELDS.includes(c.field)) refreshCandidates();
      });
      const printed = c.label?.sq || c.label?.sr ? [c.label.sq, c.label.sr].filter(Boolean).join(' / ') : '';
      return h('div', { class: 'kfield' },
        h('label', { for: id }, h('span', { class: 'col-no', 'aria-hidden': 'true' }, String(i + 1)), columnLabel(c)),
        printed && currentLang() !== 'sq' ? h('small', { class: 'hint' }, printed) : null,
        h('div', { class: 'kinput' }, input, tag), list, warn);
    });

    const form = h('form', {
      class: 'keying-form', 'data-testid': 'keying-form', 'data-zone': zone.id, novalidate: true,
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const { fields, empty } = readForm(layout.columns, inputs);
        if (empty) {
          msg.fail(new Error(`${t('kyAnswerEvery')} (${columnLabel(layout.columns.find((c) => c.key === empty)!)})`));
          inputs.get(empty)!.focus();
          return;
        }
        submit.disabled = true;
        try {
          const r = await api<{ keying: { warnings: KeyingWarning[] }; zoneStatus: string; entryId: string | null }>('POST', `/keying/zones/${zone.id}/keyings`, { fields });
          const numberCol = layout.columns.find((c) => c.field === 'entry_number');
          const n = numberCol ? Number((fields[numberCol.key] as { value?: string }).value) : NaN;
          lastNumber = Number.isInteger(n) ? { bookId: zone.bookId, n } : null;
          const chosen = panel.chosen();
          let linkNote = '';
          if (chosen && r.entryId && mayLink()) {
            await linkEntry(r.entryId, chosen.record.id);
            linkNote = `${t('kyLinkedTo')} ${chosen.record.recordId}`;
          } else if (chosen) {
            linkNote = t('kyLinkLater');
          }
          saved.dataset.zone = zone.id;
          replace(saved, h('div', { class: 'card' },
            h('p', null, h('strong', null, `${t('kySaved')}: `), `${t('page')} ${zone.pageSequence} · ${tx('zs_', r.zoneStatus)}`, linkNote ? ` · ${linkNote}` : ''),
            r.keying.warnings.length ? h('ul', { class: 'warnings' }, r.keying.warnings.map((w) => {
              const c = layout.columns.find((x) => x.key === w.column);
              return h('li', null, `${c ? columnLabel(c) : w.column}: ${tx('kyw_', w.code)}`);
            })) : null));
          msg.clear();
          await open();
          stage.querySelector<HTMLInputElement>('input[data-column]')?.focus();
        } catch (err) {
          msg.fail(err);
          // A row someone else took, or one split meanwhile: on to the next.
          if (err instanceof ApiError && err.status === 409) await open();
        } finally {
          submit.disabled = false;
        }
      },
      onkeydown: (e: KeyboardEvent) => {
        const target = e.target as HTMLElement;
        const i = altDigit(e);
        if (i !== null && i < KEYS_SHOWN) {
          e.preventDefault();
          panel.choose(i);
          return;
        }
        if ((e.key === 'F2' || e.key === 'F3') && target instanceof HTMLInputElement && target.dataset.column) {
          e.preventDefault();
          target.value = e.key === 'F2' ? ILLEGIBLE : BLANK;
          target.dispatchEvent(new Event('input', { bubbles: true }));
          target.dispatchEvent(new Event('change', { bubbles: true }));
          moveFocus(form, target, 1);
        }
      },
    },
    h('div', { class: 'kfields' }, fieldEls),
    h('div', { class: 'row' }, submit, h('a', { class: 'button secondary', href: '#/arbitration' }, t('kyArbitration'))));

    replace(stage,
      h('figure', { class: 'zone-figure' },
        apiImage(`/keying/zones/${zone.id}/crop?width=1400&context=1`, `${t('kyRowImage')}, ${t('page')} ${zone.pageSequence}`, { class: 'zone-crop', 'data-testid': 'zone-crop' }),
        h('figcaption', null, `${book.municipality} · ${book.yearFrom === book.yearTo ? book.yearFrom : `${book.yearFrom}–${book.yearTo}`} · ${t('page')} ${zone.pageSequence} · ${layout.name}`)),
      h('div', { class: 'keying-grid' }, form, panel));
    // Hidden from the arbitration link for pure keyers, who may not arbitrate.
    const arb = form.querySelector<HTMLAnchorElement>('a.button');
    if (arb && !session.user?.roles.includes('reviewer')) arb.hidden = true;
  };

  await open();
  stage.querySelector<HTMLInputElement>('input[data-column]')?.focus();
}
