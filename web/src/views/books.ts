import { api, ApiError, get, upload } from '../api.ts';
import { field, h, replace, select, when } from '../dom.ts';
import { currentLang, t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import { bookTitle, type Book, type Counts, type Page } from '../types.ts';
import { apiImage, badge, bar, closedNotice, isClosedRefusal, notice, typeLabel } from '../widgets.ts';
import { completeness, printedPageNumber } from '../completeness.ts';
import { watchBook } from '../watch.ts';
import { OFFERED_LANGUAGES, languageName, languageNames, reasonKey, stageName } from './book-words.ts';
import { BOOK_OCR_PROFILES, BOOK_STATUSES, DEFAULT_BOOK_LANGUAGES, DEFAULT_OCR_PROFILE, FINAL_BOOK_STATUSES, REGISTER_TYPES } from '../../../common/vocabulary.ts';

const TERMINAL: readonly string[] = FINAL_BOOK_STATUSES;
const STAGES = ['split', 'master', 'ocr', 'index'];
// The server's default for a book given no languages, so the ticked boxes and an API upload without languages agree.
const DEFAULT_LANGUAGES: readonly string[] = DEFAULT_BOOK_LANGUAGES.split('+');

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** The stage a page is in (or failed in), in words; '–' when it has none. */
function stageWords(stage: string | null | undefined): string {
  const s = stageName(stage);
  return s ? tx('stg_', s) : (stage ?? '–');
}

/**
 * A failure reason as staff read it: a sentence for the reasons the archive is known to write, else
 * the stage it failed in; the reason as written stays available, folded, for whoever diagnoses it.
 */
function reasonWords(reason: string | null | undefined, stage?: string | null): HTMLElement | null {
  if (!reason) return null;
  const key = reasonKey(reason);
  // Neither a known reason nor a known stage: the reason as written is all there is to say.
  const sentence = key ? t(key) : stageName(stage) ? `${t('rs_failedAt')} ${stageWords(stage)}.` : reason;
  return h('span', { class: 'reason' }, h('span', { 'data-testid': 'reason-words' }, sentence),
    sentence === reason ? null : [' ', h('details', { class: 'tech' }, h('summary', null, t('rsDetail')), h('code', null, reason))]);
}

/** Page counts by where the pages are: pending, each stage (as the API reports it), done, failed. */
function stageCounts(pages: Page[]): [string, number][] {
  const out = new Map<string, number>([['pending', 0], ...STAGES.map((s) => [s, 0] as [string, number]), ['processing', 0], ['done', 0], ['failed', 0]]);
  for (const p of pages) {
    // A page being processed counts under the stage it is in; one in a stage this screen does not
    // know counts as processing rather than under a stage it is not in.
    const st = stageName(p.stage);
    const k = p.status === 'processing' ? (st && out.has(st) ? st : 'processing') : p.status;
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return [...out].filter(([k, n]) => n > 0 || k === 'done');
}

/** A count's label: stages by what is being done, statuses by their name. */
function countLabel(k: string): string {
  return (STAGES as readonly string[]).includes(k) ? tx('stg_', k) : tx('s_', k);
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
        h('ul', { class: 'stages', 'data-testid': 'stage-counts' }, stageCounts(pages).map(([k, n]) => h('li', { class: `stage-${k}`, 'data-stage': k }, h('span', null, countLabel(k)), h('strong', null, String(n))))),
        book.failureReason ? h('p', { class: 'error' }, reasonWords(book.failureReason, book.status === 'failed' ? 'book.split' : null)) : null);
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
  const langBoxes = OFFERED_LANGUAGES.map((code) => h('input', { type: 'checkbox', name: 'languages', value: code, id: `lang-${code}`, checked: DEFAULT_LANGUAGES.includes(code) }));
  const langs = h('fieldset', { class: 'choices langs', 'data-testid': 'ocr-languages' }, h('legend', null, t('languages')),
    langBoxes.map((b) => h('div', { class: 'field check' }, b, h('label', { for: b.id }, languageName(b.value)))));
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
      const chosen = langBoxes.filter((b) => b.checked).map((b) => b.value);
      if (chosen.length === 0) return msg.fail(new Error(t('languages')));
      const fd = new FormData();
      // Metadata first: the API streams the body and reads only fields sent before the file.
      fd.append('registerType', regType.value);
      fd.append('municipality', muni.value.trim());
      fd.append('year', year.value.trim());
      if (volume.value.trim()) fd.append('volume', volume.value.trim());
      fd.append('languages', chosen.join('+'));
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
        // The next book is another book: its metadata starts afresh, and the finished upload's
        // progress goes (the live progress beside the form takes over).
        regType.value = 'birth';
        for (const i of [muni, year, volume]) i.value = '';
        profile.value = DEFAULT_OCR_PROFILE;
        for (const b of langBoxes) b.checked = DEFAULT_LANGUAGES.includes(b.value);
        setFile(null);
        prog.hidden = true;
        prog.value = 0;
        progText.textContent = '';
        msg.ok(r.duplicate ? t('duplicate') : t('uploaded'));
        if (!TERMINAL.includes(r.book.status)) watchBook(r.book.id);
        onUploaded(r.book);
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
    field(t('volume'), volume), field(t('ocrProfile'), profile)), langs,
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
        h('td', { class: b.pagesFailed || b.failureReason ? 'fail' : '' }, b.pagesFailed ? String(b.pagesFailed) : (b.failureReason ? '' : '0'), b.failureReason ? [' – ', reasonWords(b.failureReason, b.status === 'failed' ? 'book.split' : null)] : null),
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

/** The correction of a book's municipality, years and volume (audited by the API). */
function editForm(book: Book, onSaved: () => void): HTMLFormElement {
  const msg = notice();
  const muni = h('input', { name: 'municipality', required: true, maxlength: '200', value: book.municipality });
  const year = h('input', { name: 'year', required: true, pattern: '\\s*\\d{4}\\s*(-\\s*\\d{4}\\s*)?', inputmode: 'numeric', value: book.yearFrom === book.yearTo ? String(book.yearFrom) : `${book.yearFrom}-${book.yearTo}` });
  const volume = h('input', { name: 'volume', maxlength: '50', value: book.volume ?? '' });
  return h('form', {
    onsubmit: async (e: Event) => {
      e.preventDefault();
      msg.clear();
      try {
        await api('PATCH', `/books/${book.id}`, { municipality: muni.value.trim(), year: year.value.trim(), volume: volume.value.trim() || null });
        onSaved();
      } catch (err) {
        msg.fail(err);
      }
    },
  }, h('div', { class: 'grid' }, field(t('municipality'), muni), field(t('year'), year, t('yearHint')), field(t('volume'), volume)),
  h('div', { class: 'row' }, h('button', { type: 'submit' }, t('save'))), msg);
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
  let lastFailedKey = '';
  const selected = new Set<number>();
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
        h('dt', null, t('languages')), h('dd', { 'data-testid': 'book-languages' }, languageNames(book.languages)),
        h('dt', null, t('ocrProfile')), h('dd', null, tx('op_', book.ocrProfile)),
        s?.meanOcrConfidence != null ? [h('dt', null, t('ocrConfidence')), h('dd', null, `${s.meanOcrConfidence.toFixed(1)}%`)] : null,
        h('dt', null, t('created')), h('dd', null, when(book.createdAt, currentLang()))),
      counts.pending + counts.processing > 0
        ? h('ul', { class: 'stages', 'data-testid': 'stage-counts' }, stageCounts(pages).map(([k, n]) => h('li', { class: `stage-${k}`, 'data-stage': k }, h('span', null, countLabel(k)), h('strong', null, String(n)))))
        : null,
      book.failureReason ? h('p', { class: 'error' }, reasonWords(book.failureReason, book.status === 'failed' ? 'book.split' : null)) : null);
    const failed = pages.filter((p) => p.status === 'failed');
    // Redrawn only when the failures changed, so ticked boxes survive the polling.
    const failedKey = failed.map((p) => `${p.sequence}:${p.revision}:${p.retryable}:${p.failureReason}`).join(',');
    if (failedKey !== lastFailedKey) {
      lastFailedKey = failedKey;
      const retryable = failed.filter((p) => p.retryable !== false);
      for (const seq of [...selected]) if (!retryable.some((p) => p.sequence === seq)) selected.delete(seq);
      const boxes: HTMLInputElement[] = [];
      const retrySel = h('button', { type: 'button', class: 'secondary', disabled: selected.size === 0, 'data-testid': 'retry-selected', onclick: () => retry([...selected].sort((a, b) => a - b)) }, t('retrySelected'));
      const sync = () => { retrySel.disabled = selected.size === 0; all.checked = boxes.length > 0 && boxes.every((b) => b.checked); };
      const all = h('input', { type: 'checkbox', 'aria-label': t('selectAll'), disabled: retryable.length === 0, onchange: (e: Event) => {
        for (const b of boxes) { b.checked = (e.target as HTMLInputElement).checked; if (b.checked) selected.add(Number(b.value)); else selected.delete(Number(b.value)); }
        sync();
      } });
      replace(failedBox, failed.length === 0 ? null : [
        h('div', { class: 'row between' }, h('h2', null, `${t('failedPages')} (${failed.length})`),
          h('div', { class: 'row' }, retrySel, retryable.length ? h('button', { type: 'button', onclick: () => retry(), 'data-testid': 'retry-all' }, t('retryFailed')) : null)),
        h('table', { class: 'failed', 'data-testid': 'failed-pages' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, all), [t('page'), t('stage'), t('reason'), h('span', { class: 'visually-hidden' }, t('retry')), h('span', { class: 'visually-hidden' }, t('replace'))].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, failed.map((p) => {
            const canRetry = p.retryable !== false;
            const box = canRetry ? h('input', { type: 'checkbox', value: String(p.sequence), checked: selected.has(p.sequence), 'aria-label': `${t('selectPage')} ${p.sequence}`, onchange: (e: Event) => {
              if ((e.target as HTMLInputElement).checked) selected.add(p.sequence); else selected.delete(p.sequence);
              sync();
            } }) : null;
            if (box) boxes.push(box);
            return h('tr', { 'data-testid': 'failed-page', 'data-sequence': String(p.sequence) },
              h('td', null, box),
              h('th', { scope: 'row' }, String(p.sequence)), h('td', { 'data-testid': 'failed-stage' }, stageWords(p.stage)), h('td', { class: 'fail' }, reasonWords(p.failureReason, p.stage) ?? '–'),
              h('td', null, canRetry
                ? h('button', { type: 'button', class: 'secondary', onclick: () => retry([p.sequence]), 'aria-label': `${t('retry')} ${t('page')} ${p.sequence}` }, t('retry'))
                : h('small', { class: 'hint', 'data-testid': 'no-retry' }, t('noRetry'))),
              h('td', null, h('button', { type: 'button', class: 'secondary', onclick: () => replacePage(p.sequence), 'aria-label': `${t('replace')} ${t('page')} ${p.sequence}` }, t('replace'))));
          }))),
      ]);
      sync();
    }
    // Thumbnails are redrawn only when a page changed, so images do not flicker while polling.
    const key = pages.map((p) => `${p.sequence}:${p.status}:${p.revision}:${p.status === 'processing' ? p.stage : ''}`).join(',');
    if (key !== lastKey) {
      lastKey = key;
      // A closed book's images are refused: say why once, above the grey thumbnails (with a purpose form where one helps).
      const closedNote = h('div');
      const onThumbFail = (e: unknown) => {
        if (isClosedRefusal(e) && !closedNote.hasChildNodes()) replace(closedNote, closedNotice(e, 'closedThumbs', 'showWithPurpose', () => { lastKey = ''; void load(); }));
      };
      replace(thumbs, h('h2', null, t('thumbnails')), closedNote, h('ol', { class: 'thumbs' }, pages.map((p) => h('li', { class: `thumb st-${p.status}` },
        // Named by its visible caption (with "Page" for screen readers), so what is seen is what is heard.
        h('a', { href: `#/view/${id}/${p.sequence}` },
          p.status === 'done' ? apiImage(`/books/${id}/pages/${p.sequence}/derivatives/thumb-jpeg?revision=${p.revision}`, '', { width: '160' }, onThumbFail) : h('span', { class: 'placeholder', 'aria-hidden': 'true' }, p.status === 'failed' ? '✕' : '…'),
          h('span', { class: 'cap' }, h('span', { class: 'visually-hidden' }, `${t('page')} `), `${p.sequence}`, ' ', badge(p.status), p.status === 'processing' ? h('small', { class: 'stage-now', 'data-testid': 'page-stage' }, stageWords(p.stage)) : null))))));
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

  // Outside the polled header, so an open form is not redrawn under the user's hands.
  const edit = h('details', { class: 'card edit-book', 'data-testid': 'edit-book' }, h('summary', null, t('bkEdit')));
  edit.addEventListener('toggle', () => {
    if (!edit.open || edit.querySelector('form')) return;
    void get<{ book: Book }>(`/books/${id}`).then(({ book }) => edit.append(editForm(book, () => { edit.open = false; edit.querySelector('form')?.remove(); msg.ok(t('bkSaved')); void load(); })), (e) => msg.fail(e));
  });
  replace(el, head, msg, edit, failedBox, thumbs,
    h('section', null, h('h2', null, t('completeness')), h('p', { class: 'hint' }, t('completenessHint')),
      h('button', { type: 'button', class: 'secondary', onclick: () => void check().catch((e) => msg.fail(e)) }, t('checkCompleteness')), complete));
  await load();
}
