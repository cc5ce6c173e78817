import { get } from '../api.ts';
import { h, replace, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import { bookTitle } from '../types.ts';
import { typeLabel } from '../widgets.ts';
import { reasonKey, stageName } from './book-words.ts';

interface Overview {
  queues: Record<string, { waiting: number; active: number; delayed: number; waitingChildren: number; completed: number; failed: number }>;
  failures: { bookId: string | null; sequence: number | null; stage: string; reason: string | null; occurredAt: string; book: { registerType: string; municipality: string; yearFrom: number; yearTo: number; volume?: string | null } | null }[];
}

// The page pipeline's stages in the order pages pass them; other jobs (retention, packages) follow by name.
const ORDER = ['book.split', 'page.master', 'page.ocr', 'page.index', 'book.complete', 'book.package'];

function jobLabel(name: string): string {
  const s = stageName(name);
  return s && ORDER.includes(name) ? tx('stg_', s) : name;
}

/** Processing across books: jobs waiting and running per stage, and the newest failures in words. */
export async function processingView(ctx: ViewContext): Promise<void> {
  const queues = h('section', { 'aria-labelledby': 'pr-queues' });
  const failures = h('section', { 'aria-labelledby': 'pr-failures' });
  replace(ctx.el, h('h1', null, t('prTitle')), queues, failures);
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.onLeave(() => clearTimeout(timer));
  const load = async () => {
    const o = await get<Overview>('/processing', { limit: 20 });
    const names = Object.keys(o.queues).sort((a, b) => (ORDER.indexOf(a) + 1 || 99) - (ORDER.indexOf(b) + 1 || 99) || a.localeCompare(b));
    replace(queues, h('h2', { id: 'pr-queues' }, t('prQueues')), h('table', { 'data-testid': 'queue-depths' },
      h('thead', null, h('tr', null, [t('stage'), t('prWaiting'), t('prActive'), t('prDelayed'), t('prFailed')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, names.map((n) => {
        const c = o.queues[n]!;
        return h('tr', { 'data-job': n }, h('th', { scope: 'row' }, jobLabel(n)), h('td', null, String(c.waiting + c.waitingChildren)), h('td', null, String(c.active)), h('td', null, String(c.delayed)), h('td', { class: c.failed ? 'fail' : '' }, String(c.failed)));
      }))));
    replace(failures, h('h2', { id: 'pr-failures' }, t('prFailures')), o.failures.length === 0 ? h('p', null, t('none')) : h('table', { 'data-testid': 'recent-failures' },
      h('thead', null, h('tr', null, [t('time'), t('books'), t('page'), t('stage'), t('reason')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, o.failures.map((f) => {
        const key = reasonKey(f.reason);
        const s = stageName(f.stage);
        return h('tr', null,
          h('td', null, when(f.occurredAt, currentLang())),
          h('td', null, f.bookId ? h('a', { href: `#/books/${f.bookId}` }, f.book ? bookTitle(f.book, typeLabel) : f.bookId.slice(0, 8)) : '–'),
          h('td', null, f.sequence === null ? '–' : String(f.sequence)),
          h('td', null, s ? tx('stg_', s) : f.stage),
          h('td', { class: 'fail' }, h('span', { 'data-testid': 'failure-words' }, key ? t(key) : s ? `${t('rs_failedAt')} ${tx('stg_', s)}.` : (f.reason ?? '–')),
            f.reason ? h('details', { class: 'tech' }, h('summary', null, t('rsDetail')), h('code', null, f.reason)) : null));
      }))));
    timer = setTimeout(() => void load().catch(() => undefined), 5000);
  };
  await load();
}
