import { api, ApiError, get, upload } from '../api.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { bookTitle, type Book, type Counts, type Page } from '../types.ts';
import { apiImage, badge, bar, notice, typeLabel } from '../widgets.ts';
import { completeness, printedPageNumber } from '../completeness.ts';
import { BOOK_OCR_PROFILES, BOOK_STATUSES, DEFAULT_OCR_PROFILE, FINAL_BOOK_STATUSES, REGISTER_TYPES } from '../../../common/vocabulary.ts';

const TERMINAL: readonly string[] = FINAL_BOOK_STATUSES;
const STAGES = ['split', 'master', 'ocr', 'index'];

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Page counts by where the pages are: pending, each stage, done, failed. */
function stageCounts(pages: Page[]): [string, number][] {
  const out = new Map<string, number>([['pending', 0], ...STAGES.map((s) => [s, 0] as [string, number]), ['done', 0], ['failed', 0]]);
  for (const p of pages) {
    const k = p.status === 'processing' ? (p.stage && out.has(p.stage) ? p.stage : 'master') : p.status;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return [...out].filter(([k, n]) => n > 0 || k === 'done');
}

/** Live progress of a book: a bar and pages per stage, polled until the book ends. */
function liveProgress(bookId: string, onLeave: ViewContext['onLeave'], onEnd?: (b: Book) => void): HTMLElement {
  const box = h('section', { class: 'live card', 'aria-live': 'polite', 'data-testid': 'live-progress' }, h('p', null, t('loading')));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  onLeave(() => { stopped = true; clearTimeout(timer); });
  const tick = async () => {
    try {
      const [{ book, counts }, { pages }] = await Promise.all([
        get<{ book: Book; counts: Counts }>(`/books/${bookId}`), get<{ pages: Page[] }>(`/books/${bookId}/pages`),
      ]);
      if (stopped) return;
      replace(box,
        h('h2', null, h('a', { href: `#/books/${book.id}` }, bookTitle(book, typeLabel)), ' ', badge(book.status)),
        bar(counts.done + counts.failed, Math.max(counts.total, book.pageCount), t('progress')),
        h('ul', { class: 'stages' }, stageCounts(pages).map(([k, n]) => h('li', { class: `stage-${k}` }, h('span', null, tx('s_', k)), h('strong', null, String(n))))),
        book.failureReason ? h('p', { class: 'error' }, book.failureReason) : null);
      if (TERMINAL.includes(book.status)) onEnd?.(book);
      else timer = setTimeout(tick, 1000);
    } catch (e) {
      if (!stopped) timer = setTimeout(tick, 3000);
      if (e instanceof ApiError && e.status === 404) stopped = true;
    }
  };
  void tick();
  return box;
}

function uploadForm(ctx: ViewContext, onUploaded: (b: Book) => void): HTMLElement {
  let file: File | null = null;
  const fileInput = h('input', { type: 'file', id: 'book-file', class: 'visually-hidden', accept: '.tif,.tiff,.pdf,.zip,.png,.jpg,.jpeg' });
  const fileName = h('span', { class: 'file-name', 'data-testid': 'file-name' });
  const setFile = (f: File | null | undefined) => {
    file = f ?? null;
    fileName.textContent = file ? `${file.name} (${mb(file.size)})` : '';
  };
  fileInput.addEventListener('change', () => setFile(fileInput.files?.[0]));
  const drop = h('label', { for: 'book-file', class: 'dropzone', 'data-testid': 'dropzone' },
    h('span', { class: 'drop-icon', 'aria-hidden': 'true' }, '⇪'), h('span', null, t('dropHere')), h('span', { class: 'button secondary' }, t('chooseFile')), fileName);
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    setFile(e.dataTransfer?.files[0]);
  });
  const regType = select('registerType', REGISTER_TYPES.map((x) => [x, typeLabel(x)] as const), 'birth', { required: true });
  const muni = h('input', { name: 'municipality', required: true, maxlength: '200' });
  const year = h('input', { name: 'year', required: true, pattern: '\\s*\\d{4}\\s*(-\\s*\\d{4}\\s*)?', inputmode: 'numeric' });
  const volume = h('input', { name: 'volume', maxlength: '50' });
  const langs = h('input', { name: 'languages', value: 'sqi+srp+eng', pattern: '[a-z]{3}(_[a-z]{4})?(\\+[a-z]{3}(_[a-z]{4})?)*' });
  const profile = select('ocrProfile', BOOK_OCR_PROFILES.map((x) => [x, tx('op_', x)] as const), DEFAULT_OCR_PROFILE);
  const prog = h('progress', { max: '100', value: '0', 'aria-label': t('uploading'), hidden: true });
  const progText = h('span', { class: 'prog-text', 'data-testid': 'upload-progress' });
  const msg = notice();
  const submit = h('button', { type: 'submit' }, t('upload'));
  const form = h('form', {
    class: 'card upload',
    'aria-labelledby': 'upload-title',
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      if (!file) return msg.fail(new Error(t('noFile')));
      const fd = new FormData();
      // Metadata first: the API streams the body and reads only fields sent before the file.
      fd.append('registerType', regType.value);
      fd.append('municipality', muni.value.trim());
      fd.append('year', year.value.trim());
      if (volume.value.trim()) fd.append('volume', volume.value.trim());
      if (langs.value.trim()) fd.append('languages', langs.value.trim());
      fd.append('ocrProfile', profile.value);
      fd.append('file', file, file.name);
      submit.disabled = true;
      prog.hidden = false;
      const size = file.size;
      const job = upload<{ book: Book; duplicate: boolean }>('POST', '/books', fd, (sent, total) => {
        const all = total || size;
        prog.value = all ? Math.round((sent / all) * 100) : 0;
        progText.textContent = `${t('uploading')} ${prog.value}% (${mb(sent)} / ${mb(all)})`;
      });
      ctx.onLeave(() => job.abort());
      try {
        const r = await job.done;
        prog.value = 100;
        progText.textContent = `${t('uploading')} 100%`;
        msg.ok(r.duplicate ? t('duplicate') : t('uploaded'));
        onUploaded(r.book);
        setFile(null);
        fileInput.value = '';
      } catch (err) {
        msg.fail(err);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h2', { id: 'upload-title' }, t('uploadBook')),
  fileInput, drop,
  h('div', { class: 'grid' },
    field(t('registerType'), regType), field(t('municipality'), muni), field(t('year'), year, t('yearHint')),
    field(t('volume'), volume), field(t('languages'), langs), field(t('ocrProfile'), profile)),
  h('div', { class: 'row' }, submit, prog, progText), msg);
  return form;
}

/** Digitisation: upload with live progress, and the list of books. */
export async function booksView(ctx: ViewContext): Promise<void> {
  const { el, query } = ctx;
  const live = h('div', { class: 'live-area' });
  const list = h('div', { class: 'book-list' });
  const status = select('status', [['', t('allStatuses')], ...BOOK_STATUSES.map((s) => [s, tx('s_', s)] as const)], query.get('status') ?? '', {
    onchange: (e: Event) => go(`/books${(e.target as HTMLSelectElement).value ? `?status=${(e.target as HTMLSelectElement).value}` : ''}`),
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.onLeave(() => clearTimeout(timer));
  const load = async () => {
    clearTimeout(timer);
    const { books } = await get<{ books: Book[] }>('/books', { status: query.get('status'), limit: 100 });
    replace(list, books.length === 0 ? h('p', null, t('none')) : h('table', { class: 'books' },
      h('caption', { class: 'visually-hidden' }, t('books')),
      h('thead', null, h('tr', null, [t('books'), t('status'), t('pages'), t('failures'), t('created')].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, books.map((b) => h('tr', null,
        h('th', { scope: 'row' }, h('a', { href: `#/books/${b.id}` }, bookTitle(b, typeLabel))),
        h('td', null, badge(b.status)),
        h('td', null, bar(b.pagesDone + b.pagesFailed, b.pageCount, t('pages'))),
        h('td', { class: b.pagesFailed ? 'fail' : '' }, b.pagesFailed ? `${b.pagesFailed}${b.failureReason ? ` – ${b.failureReason}` : ''}` : (b.failureReason ?? '0')),
        h('td', null, when(b.createdAt, currentLang())))))));
    if (books.some((b) => !TERMINAL.includes(b.status))) timer = setTimeout(() => void load().catch(() => undefined), 4000);
  };
  replace(el,
    h('h1', null, t('books')),
    h('div', { class: 'two' }, uploadForm(ctx, (b) => {
      replace(live, liveProgress(b.id, ctx.onLeave, () => void load()));
      void load();
    }), live),
    h('section', null, h('div', { class: 'row between' }, h('h2', null, t('books')), field(t('status'), status)), list));
  await load();
}

/** One book: counts, failed pages with retry and replace, thumbnails, completeness. */
export async function bookView(ctx: ViewContext): Promise<void> {
  const { el, params } = ctx;
  const id = params.id!;
  const msg = notice();
  const head = h('div');
  const failedBox = h('section');
  const thumbs = h('section');
  const complete = h('div', { class: 'completeness', 'aria-live': 'polite' });
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.onLeave(() => clearTimeout(timer));
  let lastKey = '';
  let activeUntil = 0;

  const retry = async (pages?: number[]) => {
    try {
      const r = await api<{ retried: Page[] }>('POST', `/books/${id}/retry`, pages ? { pages } : {});
      msg.ok(`${t('retried')}: ${r.retried.map((p) => p.sequence).join(', ') || '0'}`);
      void load();
    } catch (e) {
      msg.fail(e);
    }
  };
  const replacePage = (seq: number) => {
    const input = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/tiff', class: 'visually-hidden' });
    input.addEventListener('change', async () => {
      const f = input.files?.[0];
      if (!f) return;
      const fd = new FormData();
      fd.append('file', f, f.name);
      try {
        await upload('PUT', `/books/${id}/pages/${seq}/image`, fd, () => undefined).done;
        msg.ok(`${t('page')} ${seq}: ${t('replaced')}`);
        void load();
      } catch (e) {
        msg.fail(e);
      }
    });
    document.body.append(input);
    input.click();
    setTimeout(() => input.remove(), 60_000);
  };

  const load = async () => {
    clearTimeout(timer);
    const [{ book, counts }, { pages }] = await Promise.all([get<{ book: Book; counts: Counts }>(`/books/${id}`), get<{ pages: Page[] }>(`/books/${id}/pages`)]);
    const s = book.summary;
    replace(head,
      h('p', { class: 'crumbs' }, h('a', { href: '#/books' }, t('books')), ' › '),
      h('h1', null, bookTitle(book, typeLabel), ' ', badge(book.status)),
      bar(counts.done + counts.failed, Math.max(counts.total, book.pageCount), t('progress')),
      h('dl', { class: 'facts' },
        h('dt', null, t('pages')), h('dd', null, `${counts.total} (${tx('s_', 'done')} ${counts.done}, ${tx('s_', 'processing')} ${counts.processing + counts.pending}, ${tx('s_', 'failed')} ${counts.failed})`),
        h('dt', null, t('languages')), h('dd', null, book.languages),
        h('dt', null, t('ocrProfile')), h('dd', null, tx('op_', book.ocrProfile)),
        s?.meanOcrConfidence != null ? [h('dt', null, t('ocrConfidence')), h('dd', null, `${s.meanOcrConfidence.toFixed(1)}%`)] : null,
        h('dt', null, t('created')), h('dd', null, when(book.createdAt, currentLang()))),
      book.failureReason ? h('p', { class: 'error' }, book.failureReason) : null);
    const failed = pages.filter((p) => p.status === 'failed');
    replace(failedBox, failed.length === 0 ? null : [
      h('div', { class: 'row between' }, h('h2', null, `${t('failedPages')} (${failed.length})`), h('button', { type: 'button', onclick: () => retry() }, t('retryFailed'))),
      h('table', { class: 'failed' },
        h('thead', null, h('tr', null, [t('page'), t('stage'), t('reason'), '', ''].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, failed.map((p) => h('tr', null,
          h('th', { scope: 'row' }, String(p.sequence)), h('td', null, p.stage ?? '–'), h('td', { class: 'fail' }, p.failureReason ?? '–'),
          h('td', null, h('button', { type: 'button', class: 'secondary', onclick: () => retry([p.sequence]), 'aria-label': `${t('retry')} ${t('page')} ${p.sequence}` }, t('retry'))),
          h('td', null, h('button', { type: 'button', class: 'secondary', onclick: () => replacePage(p.sequence), 'aria-label': `${t('replace')} ${t('page')} ${p.sequence}` }, t('replace'))))))),
    ]);
    // Thumbnails are redrawn only when a page changed, so images do not flicker while polling.
    const key = pages.map((p) => `${p.sequence}:${p.status}:${p.revision}`).join(',');
    if (key !== lastKey) {
      lastKey = key;
      replace(thumbs, h('h2', null, t('thumbnails')), h('ol', { class: 'thumbs' }, pages.map((p) => h('li', { class: `thumb st-${p.status}` },
        h('a', { href: `#/view/${id}/${p.sequence}`, 'aria-label': `${t('page')} ${p.sequence}: ${tx('s_', p.status)}` },
          p.status === 'done' ? apiImage(`/books/${id}/pages/${p.sequence}/derivatives/thumb-jpeg?revision=${p.revision}`, '', { width: '160' }) : h('span', { class: 'placeholder' }, p.status === 'failed' ? '✕' : '…'),
          h('span', { class: 'cap' }, `${p.sequence}`, ' ', badge(p.status)))))));
    }
    // Completion is recorded a moment after the last page ends: keep polling a little after activity.
    if (counts.pending + counts.processing > 0) activeUntil = Date.now() + 15_000;
    if (!TERMINAL.includes(book.status) || Date.now() < activeUntil) timer = setTimeout(() => void load().catch(() => undefined), 1500);
  };

  const check = async () => {
    replace(complete, h('p', null, t('loading')));
    const { pages } = await get<{ pages: Page[] }>(`/books/${id}/pages`, { status: 'done' });
    const numbers: { sequence: number; printed: number | null }[] = [];
    // A few at a time: each OCR document is fetched whole.
    for (let i = 0; i < pages.length; i += 4) {
      numbers.push(...await Promise.all(pages.slice(i, i + 4).map(async (p) => {
        const ocr = await get<{ text?: string }>(`/books/${id}/pages/${p.sequence}/ocr`, { revision: p.revision }).catch(() => ({ text: '' }));
        return { sequence: p.sequence, printed: printedPageNumber(ocr.text ?? '') };
      })));
    }
    const r = completeness(numbers);
    replace(complete, h('ul', { 'data-testid': 'completeness' },
      r.gaps.length ? h('li', { class: 'fail' }, `${t('gap')}: ${r.gaps.join(', ')}`) : null,
      r.duplicates.length ? h('li', { class: 'fail' }, `${t('dupes')}: ${r.duplicates.join(', ')}`) : null,
      r.unread.length ? h('li', { class: 'warn' }, `${t('unread')}: ${r.unread.map((s) => `${t('page').toLowerCase()} ${s}`).join(', ')}`) : null,
      !r.gaps.length && !r.duplicates.length ? h('li', { class: 'okay' }, `${t('complete')} (${numbers.length - r.unread.length}/${numbers.length})`) : null));
  };

  replace(el, head, msg, failedBox, thumbs,
    h('section', null, h('h2', null, t('completeness')), h('p', { class: 'hint' }, t('completenessHint')),
      h('button', { type: 'button', class: 'secondary', onclick: () => void check().catch((e) => msg.fail(e)) }, t('checkCompleteness')), complete));
  await load();
}
