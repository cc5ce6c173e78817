import { api, get, session } from '../api.ts';
import { h, replace } from '../dom.ts';
import { t, tx } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import type { Box } from '../types.ts';
import { apiImage, notice } from '../widgets.ts';
import {
  altDigit, answerOf, answerText, candidatePanel, candidateQuery, columnLabel, linkEntry, mayReadRecords,
  type FieldAnswer, type KeyingTask, type KeyingWarning, type LayoutColumn,
} from './keying.ts';

/** A disputed zone as GET /keying/disputes gives it: both keyings as A and B (no keyers' names). */
interface Dispute {
  zone: { id: string; bookId: string; pageSequence: number; box: Box; differences: string[] };
  layout: { key: string; version: number; name: string; columns: LayoutColumn[] };
  differences: string[];
  a: { fields: Record<string, FieldAnswer>; warnings: KeyingWarning[] };
  b: { fields: Record<string, FieldAnswer>; warnings: KeyingWarning[] };
}

/** What a decision on one field is sent as. */
type Decision = { pick: 'a' | 'b' } | FieldAnswer;

/**
 * Reviewers: the disputed rows, one at a time: the crop, the fields both keyers agree on, and per
 * differing field A and B side by side with a box for an answer of one's own. Keys: A or B take a
 * keying's answer, O (or typing in the box) gives one's own (? illegible, - blank), Tab goes to the
 * next field, Enter decides. The entry made is then offered its registry candidates, Alt+1..3
 * linking one (for reviewers who are also clerks: only clerks may read records and link).
 */
export async function arbitrationView({ el, query }: ViewContext): Promise<void> {
  const bookId = query.get('bookId') ?? undefined;
  const msg = notice();
  const list = h('ol', { class: 'disputes', 'data-testid': 'disputes' });
  const stage = h('div', { class: 'dispute-stage' });
  replace(el, h('h1', null, t('arTitle')), h('p', { class: 'hint keys', id: 'ar-keys' }, t('arKeys')), msg,
    h('div', { class: 'arbitration' }, h('nav', { 'aria-label': t('arList') }, h('h2', null, t('arList')), list), stage));

  let disputes: Dispute[] = [];
  const load = async (focusFirst: boolean) => {
    disputes = (await get<{ disputes: Dispute[] }>('/keying/disputes', { bookId, limit: 50 })).disputes;
    replace(list, disputes.map((d, i) => h('li', null, h('button', { type: 'button', class: 'link', onclick: () => show(i) },
      `${t('page')} ${d.zone.pageSequence} · ${d.differences.length} ${t('arDiffering')}`))));
    if (disputes.length === 0) {
      replace(stage, h('p', { class: 'card', 'data-testid': 'no-disputes' }, t('arNone')));
      return;
    }
    show(0, focusFirst);
  };

  const show = (index: number, focus = true) => {
    const d = disputes[index]!;
    for (const [i, li] of [...list.children].entries()) li.classList.toggle('current', i === index);
    const byKey = new Map(d.layout.columns.map((c) => [c.key, c]));
    const groups = d.differences.map((key) => {
      const c = byKey.get(key) ?? { key, field: 'other' };
      const name = `d-${key}`;
      const radio = (pick: 'a' | 'b' | 'own', checked: boolean) => h('input', { type: 'radio', name, id: `${name}-${pick}`, value: pick, checked });
      const own = h('input', { id: `${name}-text`, 'data-own': key, autocomplete: 'off', spellcheck: 'false', maxlength: '500', 'aria-label': `${columnLabel(c)}: ${t('arOwn')}` });
      const [ra, rb, ro] = [radio('a', true), radio('b', false), radio('own', false)];
      own.addEventListener('input', () => { ro.checked = true; });
      const side = (r: HTMLInputElement, label: string, a: FieldAnswer | undefined, warnings: KeyingWarning[]) => h('div', { class: 'side' }, r,
        h('label', { for: r.id }, h('kbd', null, label), ' ', h('span', { class: a && 'answer' in a ? 'explicit' : '' }, answerText(a))),
        warnings.filter((w) => w.column === key).map((w) => h('small', { class: 'warn' }, tx('kyw_', w.code))));
      return h('fieldset', { class: 'decide', 'data-column': key },
        h('legend', null, columnLabel(c)),
        side(ra, 'A', d.a.fields[key], d.a.warnings), side(rb, 'B', d.b.fields[key], d.b.warnings),
        h('div', { class: 'side own' }, ro, h('label', { for: ro.id }, h('kbd', null, 'O'), ` ${t('arOwn')}`), own));
    });
    const agreed = d.layout.columns.filter((c) => !d.differences.includes(c.key));
    const result = h('div', { class: 'decision-result', 'data-testid': 'decision-result' });
    const submit = h('button', { type: 'submit' }, t('arDecide'));
    const form = h('form', {
      class: 'card arbitration-form', 'data-testid': 'arbitration-form', novalidate: true,
      onkeydown: (e: KeyboardEvent) => {
        const target = e.target as HTMLInputElement;
        const group = target.closest('fieldset.decide');
        if (!group || target.dataset.own !== undefined || e.ctrlKey || e.altKey || e.metaKey) return;
        const k = e.key.toLowerCase();
        if (k === 'a' || k === 'b') {
          e.preventDefault();
          const r = group.querySelector<HTMLInputElement>(`input[value=${k}]`)!;
          r.checked = true;
          r.focus();
        } else if (k === 'o') {
          e.preventDefault();
          group.querySelector<HTMLInputElement>('input[value=own]')!.checked = true;
          group.querySelector<HTMLInputElement>('input[data-own]')!.focus();
        } else if (e.key === 'Enter') {
          // Radios do not submit on Enter by themselves.
          e.preventDefault();
          form.requestSubmit();
        }
      },
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const fields: Record<string, Decision> = {};
        for (const g of form.querySelectorAll<HTMLFieldSetElement>('fieldset.decide')) {
          const key = g.dataset.column!;
          const pick = g.querySelector<HTMLInputElement>('input[type=radio]:checked')!.value;
          if (pick === 'a' || pick === 'b') fields[key] = { pick };
          else {
            const a = answerOf(g.querySelector<HTMLInputElement>('input[data-own]')!.value);
            if (!a) {
              msg.fail(new Error(`${t('arOwnEmpty')} (${g.querySelector('legend')!.textContent})`));
              g.querySelector<HTMLInputElement>('input[data-own]')!.focus();
              return;
            }
            fields[key] = a;
          }
        }
        submit.disabled = true;
        try {
          const r = await api<{ entryId: string | null }>('POST', `/keying/zones/${d.zone.id}/decision`, { fields });
          for (const input of form.querySelectorAll('input')) input.disabled = true;
          if (r.entryId === null) {
            // Every column blank: the row is closed as empty, there is no entry to link.
            msg.ok(t('arDecidedEmpty'));
            const next = h('button', { type: 'button', 'data-testid': 'next-dispute', onclick: () => void load(true).catch((e) => msg.fail(e)) }, t('arNext'));
            replace(result, h('div', { class: 'row' }, next));
            next.focus();
            return;
          }
          msg.ok(t('arDecided'));
          const final: Record<string, FieldAnswer | undefined> = { ...d.a.fields };
          for (const [k, dec] of Object.entries(fields)) final[k] = 'pick' in dec ? (dec.pick === 'a' ? d.a : d.b).fields[k] : dec;
          await offerLink(result, r.entryId, d, final);
        } catch (err) {
          msg.fail(err);
          submit.disabled = false;
        }
      },
    },
    h('h2', null, `${t('page')} ${d.zone.pageSequence} · ${d.layout.name}`),
    agreed.length ? h('dl', { class: 'facts agreed' }, agreed.map((c) => [h('dt', null, columnLabel(c)), h('dd', null, answerText(d.a.fields[c.key]))])) : null,
    groups, h('div', { class: 'row' }, submit));
    replace(stage,
      h('figure', { class: 'zone-figure' },
        apiImage(`/keying/zones/${d.zone.id}/crop?width=1400&context=1`, `${t('kyRowImage')}, ${t('page')} ${d.zone.pageSequence}`, { class: 'zone-crop', 'data-testid': 'zone-crop' })),
      form, result);
    if (focus) form.querySelector<HTMLInputElement>('input[type=radio]:checked')?.focus();
  };

  /** After a decision: the entry's registry candidates, Alt+1..3 to link, and on to the next dispute. */
  const offerLink = async (into: HTMLElement, entryId: string, d: Dispute, final: Record<string, FieldAnswer | undefined>) => {
    const next = h('button', { type: 'button', 'data-testid': 'next-dispute', onclick: () => void load(true).catch((e) => msg.fail(e)) }, t('arNext'));
    const canLink = Boolean(session.user?.roles.includes('clerk'));
    const panel = candidatePanel(async (c) => {
      if (!c) return;
      if (!canLink) return msg.fail(new Error(t('kyCandidatesNotAllowed')));
      try {
        await linkEntry(entryId, c.record.id);
        msg.ok(`${t('kyLinkedTo')} ${c.record.recordId}`);
        next.focus();
      } catch (err) {
        msg.fail(err);
      }
    });
    replace(into, panel, h('div', { class: 'row' }, next));
    into.onkeydown = (e: KeyboardEvent) => {
      const i = altDigit(e);
      if (i !== null && i < 3) {
        e.preventDefault();
        panel.choose(i);
      }
    };
    next.focus();
    if (mayReadRecords()) {
      // The book's place and years come with the keying task's shape; disputes carry the zone only.
      const book = await get<{ book: KeyingTask['book'] }>(`/books/${d.zone.bookId}`).then((r) => r.book, () => null);
      const dates = Object.fromEntries(d.layout.columns.filter((c) => c.field === 'event_date' && final[c.key]).map((c) => [c.key, final[c.key]!]));
      const iso = await api<{ dates: Record<string, string | null> }>('POST', `/keying/zones/${d.zone.id}/check`, { fields: dates }).then((r) => r.dates, () => ({}));
      if (book) await panel.show(candidateQuery({ book }, d.layout.columns, final, iso));
    }
  };

  await load(true);
}
