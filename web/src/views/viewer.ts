import { api, ApiError, download, get, session } from '../api.ts';
import { field, h, replace, select, type Child } from '../dom.ts';
import { bookHref, titleOf } from '../book-title.ts';
import { t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import type { Book, Box, Entry, Hit, Link, Page } from '../types.ts';
import { errorContent, apiImage, closedNotice, isClosedRefusal, notice } from '../widgets.ts';
import { linkForm, linkList } from './records.ts';
import { EVENT_TYPES } from '../../../common/vocabulary.ts';

const MAX_IMAGE_WIDTH = 2000;

/** A box as a positioned element, in percent of the page, so it follows any zoom. */
function boxEl(b: Box, page: { width: number; height: number }, cls: string, label: string): HTMLElement {
  // A labelled box is an image region to assistive technology (a bare div may not carry a label).
  const el = h('div', { class: `box ${cls}`, ...(label ? { role: 'img', title: label, 'aria-label': label } : {}) });
  el.style.left = `${(b.x0 / page.width) * 100}%`;
  el.style.top = `${(b.y0 / page.height) * 100}%`;
  el.style.width = `${((b.x1 - b.x0) / page.width) * 100}%`;
  el.style.height = `${((b.y1 - b.y0) / page.height) * 100}%`;
  return el;
}

function entryLabel(e: Entry): string {
  const names = e.names.map((n) => n.name).join(', ');
  return [e.entryNumber ? `#${e.entryNumber}` : null, names || null, e.eventDate, tx('', e.eventType)].filter(Boolean).join(' · ');
}

/** A page as its detail route gives it: the page, its current objects with download paths, its type and OCR engine. */
interface PageDetail {
  page: Page & { dpiX?: number | null; dpiY?: number | null };
  objects: { role: string; variant: string; revision: number; mediaType: string; size: number; sha256: string; href: string | null }[];
  facts?: { pageType: string | null; ocrEngine: string | null };
}

/** A page number the book does not have: said in words, with the way to its first and last page. */
function noSuchPage(el: HTMLElement, bookId: string, seq: number, total: number, title: string): void {
  replace(el,
    h('h1', { class: 'viewer-title', 'data-testid': 'book-title' }, title),
    h('p', { class: 'notice warn', role: 'status', 'data-testid': 'no-such-page' }, `${t('vwNoSuchPage')} ${Number.isFinite(seq) ? seq : ''}. ${t('vwPagesInBook')}: ${total}.`),
    total > 0 ? h('p', { class: 'row' }, h('a', { class: 'button secondary', href: `#/view/${bookId}/1` }, t('vwToFirst')), h('a', { class: 'button secondary', href: `#/view/${bookId}/${total}` }, t('vwToLast'))) : null);
}

/**
 * The way back, linking only to screens the signed-in user may open: the record the page was
 * opened from and the search (clerks), the book (digitisers); otherwise the title as plain text.
 */
function crumbs(query: URLSearchParams, bookId: string, title: string, seq: number): HTMLElement {
  const roles = session.user?.roles ?? [];
  const parts: Child[] = [];
  const record = query.get('record');
  const q = query.get('q');
  if (record && roles.includes('clerk')) parts.push(h('a', { href: `#/records/${encodeURIComponent(record)}` }, t('records')));
  else if (q && roles.includes('clerk')) parts.push(h('a', { href: `#/search?${new URLSearchParams({ q })}` }, t('search')));
  const href = roles.includes('digitiser') ? bookHref(bookId) : null;
  parts.push(href ? h('a', { href }, title) : h('span', null, title));
  parts.push(h('span', { 'aria-current': 'page' }, `${t('page')} ${seq}`));
  return h('nav', { class: 'crumbs', 'aria-label': t('vwCrumbs'), 'data-testid': 'crumbs' }, parts.flatMap((p, i) => (i ? [' › ', p] : [p])));
}

/** A box given in the address as x0,y0,x1,y1 (page pixels), if it is one inside the page. */
function parseBox(raw: string | null, page: { width: number; height: number }): Box | null {
  const n = (raw ?? '').split(',').map(Number);
  if (n.length !== 4 || n.some((v) => !Number.isFinite(v) || v < 0)) return null;
  const [x0, y0, x1, y1] = n as [number, number, number, number];
  if (x1 <= x0 || y1 <= y0 || x1 > page.width || y1 > page.height) return null;
  return { x0, y0, x1, y1 };
}

/** The page's facts: number, status, size, resolution, type, OCR confidence and engine, checksums. */
function pageMeta(page: PageDetail['page'], objects: PageDetail['objects'], facts: PageDetail['facts'], total: number): HTMLElement {
  const unknown = t('vwUnknown');
  const row = (k: string, v: Child) => [h('dt', null, k), h('dd', null, v)];
  return h('section', { class: 'page-meta', 'data-testid': 'page-meta' }, h('h2', null, t('vwMeta')),
    h('dl', { class: 'meta' },
      row(t('page'), total > 0 ? `${page.sequence} ${t('vwOf')} ${total}` : String(page.sequence)),
      row(t('status'), tx('s_', page.status)),
      row(t('vwSize'), page.width && page.height ? `${page.width} × ${page.height}` : unknown),
      row(t('vwDpi'), page.dpiX ? (page.dpiY && page.dpiY !== page.dpiX ? `${Math.round(page.dpiX)} × ${Math.round(page.dpiY)}` : String(Math.round(page.dpiX))) : unknown),
      row(t('vwPageType'), facts?.pageType ? tx('pt_', facts.pageType) : unknown),
      row(t('vwOcrConfidence'), page.ocrConfidence === null ? unknown : `${Math.round(page.ocrConfidence)}%`),
      row(t('vwOcrEngine'), facts?.ocrEngine ?? unknown),
      row(t('vwRevision'), String(page.revision))),
    h('h3', null, t('vwChecksums')),
    objects.length === 0 ? h('p', null, t('none')) : h('ul', { class: 'checksums', 'data-testid': 'checksums' }, objects.map((o) =>
      h('li', null, h('span', null, `${o.variant ? `${o.role}/${o.variant}` : o.role} · ${o.size} ${t('bytes')}`), h('br'), h('code', { class: 'hash', title: o.sha256 }, o.sha256)))));
}

/** The page's OCR text as the engine read it; a page without OCR (yet) or a refusal says so. */
async function loadOcrText(area: HTMLElement, bookId: string, seq: number, revision: number): Promise<void> {
  const head = h('h2', { id: 'ocr-text-h' }, t('vwOcrText'));
  try {
    const ocr = await get<{ text?: string; engine?: string }>(`/books/${bookId}/pages/${seq}/ocr`, { revision });
    const text = (ocr.text ?? '').trim();
    replace(area, head, text ? h('pre', { class: 'ocr', tabindex: '0', 'aria-labelledby': 'ocr-text-h' }, text) : h('p', null, t('vwNoText')));
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) replace(area, head, h('p', null, t('vwNoText')));
    else replace(area, head, h('p', { class: 'notice fail' }, errorContent(e)));
  }
}

const SOURCE_EXTENSIONS: Record<string, string> = { tiff: 'tif', pdf: 'pdf', zip: 'zip', png: 'png', jpeg: 'jpg' };

/**
 * Downloads the role may take: the book as uploaded and this page's master and OCR (whoever reads
 * pages), the book's PDF and archival package (those who read personal data, once they exist).
 */
async function loadDownloads(area: HTMLElement, book: Book & { sourceFormat?: string }, objects: PageDetail['objects'], roles: string[]): Promise<void> {
  const msg = notice();
  const item = (label: string, path: string, filename: string) => h('li', null,
    h('button', { type: 'button', class: 'link', onclick: () => void download(path, filename).catch((e) => msg.fail(e)) }, label));
  const master = objects.find((o) => o.role === 'master' && o.href);
  const ocr = objects.find((o) => o.role === 'ocr' && o.href);
  const items: HTMLElement[] = [item(t('vwOriginal'), `/books/${book.id}/original`, `book-${book.id}-original.${SOURCE_EXTENSIONS[book.sourceFormat ?? ''] ?? 'bin'}`)];
  if (master?.href) items.push(item(t('vwMaster'), master.href, `page-${master.revision}-master.${master.mediaType.includes('png') ? 'png' : 'tif'}`));
  if (ocr?.href) items.push(item(t('vwOcrJson'), ocr.href, `page-ocr-${ocr.revision}.json`));
  let note: HTMLElement | null = null;
  if (roles.some((r) => r === 'clerk' || r === 'records_manager')) {
    const { packages } = await get<{ packages: { current: boolean }[] }>(`/books/${book.id}/packages`);
    if (packages.some((p) => p.current)) {
      items.push(item(t('vwPdf'), `/books/${book.id}/pdf`, `book-${book.id}.pdf`), item(t('vwPackage'), `/books/${book.id}/package`, `book-${book.id}-package.tar`));
    } else note = h('p', { class: 'hint' }, t('vwNotPackaged'));
  }
  replace(area, h('h2', null, t('vwDownloads')), msg, h('ul', { class: 'downloads' }, items), note);
}

/** Page viewer: zoom and pan, matched words highlighted, entry boxes, drawing a new entry, links. */
export async function pageView(ctx: ViewContext): Promise<void> {
  const { el, params, query } = ctx;
  const bookId = params.bookId!;
  const seq = Number(params.seq);
  // The book first: its title and page count frame the page, and a page past the end is explained, not an error.
  const { book } = await get<{ book: Book }>(`/books/${bookId}`);
  const total = book.pageCount;
  const title = titleOf(book);
  if (!Number.isInteger(seq) || seq < 1 || (total > 0 && seq > total)) return noSuchPage(el, bookId, seq, total, title);
  const { page, objects, facts } = await get<PageDetail>(`/books/${bookId}/pages/${seq}`);
  const q = query.get('q') ?? '';
  const pagePath = (n: number) => {
    const keep = new URLSearchParams(query);
    keep.delete('box');
    return `/view/${bookId}/${n}${keep.size ? `?${keep}` : ''}`;
  };
  const msg = notice();
  const roles = session.user?.roles ?? [];
  // A page still being processed has no image size yet: its details, not an error, and the way on.
  if (!page.width || !page.height) {
    const downloadsArea = h('section', { 'data-testid': 'downloads' });
    replace(el,
      crumbs(query, bookId, title, seq),
      h('h1', { class: 'viewer-title', 'data-testid': 'book-title' }, title),
      h('p', { class: 'notice warn', role: 'status', 'data-testid': 'page-not-ready' }, `${t('page')} ${seq}: ${tx('s_', page.status)}. ${t('vwNotReady')}`),
      h('p', { class: 'row' },
        h('a', { class: 'button secondary', href: `#${pagePath(seq - 1)}`, hidden: seq <= 1 }, `‹ ${t('prev')}`),
        h('a', { class: 'button secondary', href: `#${pagePath(seq + 1)}`, hidden: total > 0 && seq >= total }, `${t('next')} ›`)),
      h('div', { class: 'viewer' }, h('aside', { class: 'side' }, msg, pageMeta(page, objects, facts, total), downloadsArea)));
    await loadDownloads(downloadsArea, book, objects, roles).catch((e) => msg.fail(e));
    return;
  }
  const dims = { width: page.width, height: page.height };
  // Entries and links are personal data (clerks, records managers); only clerks create them.
  const readsPersonal = roles.some((r) => r === 'clerk' || r === 'records_manager');
  const writes = roles.includes('clerk');

  // Stage: the image and every overlay at the image's natural size; zoom and pan are one transform.
  const imgWidth = Math.min(dims.width, MAX_IMAGE_WIDTH);
  // A closed book's image is refused: ask for the purpose in its place, then open the page again.
  const img = apiImage(`/books/${bookId}/pages/${seq}/image?width=${imgWidth}&revision=${page.revision}`, `${t('page')} ${seq}`, { class: 'page-img', draggable: 'false' },
    (e) => { if (isClosedRefusal(e)) viewport.replaceWith(closedNotice(e, 'closedPage', 'openWithPurpose', () => go(location.hash.slice(1)))); });
  const hits = h('div', { class: 'layer hits-layer' });
  const entriesLayer = h('div', { class: 'layer entries-layer' });
  const draft = h('div', { class: 'box draft', hidden: true });
  const stage = h('div', { class: 'stage', 'data-testid': 'stage' }, img, entriesLayer, hits, draft);
  const displayHeight = (imgWidth * dims.height) / dims.width;
  stage.style.width = `${imgWidth}px`;
  stage.style.height = `${displayHeight}px`;
  const viewport = h('div', { class: 'viewport', tabindex: '0', role: 'application', 'aria-label': `${t('viewer')}. ${t('viewerHelp')}`, 'aria-describedby': 'viewer-help' }, stage);
  let z = 1;
  let tx0 = 0;
  let ty0 = 0;
  const apply = () => { stage.style.transform = `translate(${tx0}px, ${ty0}px) scale(${z})`; };
  const fit = () => {
    z = Math.min(viewport.clientWidth / imgWidth, viewport.clientHeight / displayHeight) || 1;
    tx0 = (viewport.clientWidth - imgWidth * z) / 2;
    ty0 = 0;
    apply();
  };
  const zoomAt = (factor: number, cx = viewport.clientWidth / 2, cy = viewport.clientHeight / 2) => {
    const nz = Math.min(8, Math.max(0.1, z * factor));
    tx0 = cx - ((cx - tx0) * nz) / z;
    ty0 = cy - ((cy - ty0) * nz) / z;
    z = nz;
    apply();
  };
  /** Zooms so the box fills most of the view, and centres it. */
  const zoomOnto = (b: Box) => {
    const s = imgWidth / dims.width;
    const fitBox = Math.min(viewport.clientWidth / ((b.x1 - b.x0) * s), viewport.clientHeight / ((b.y1 - b.y0) * s)) * 0.9;
    z = Math.min(8, Math.max(0.1, fitBox || 1));
    tx0 = viewport.clientWidth / 2 - ((b.x0 + b.x1) / 2) * s * z;
    ty0 = viewport.clientHeight / 2 - ((b.y0 + b.y1) / 2) * s * z;
    apply();
  };
  /** Centres the view on a box, zoomed so it is readable. */
  const focusBox = (b: Box) => {
    const s = imgWidth / dims.width;
    z = Math.max(z, 1);
    tx0 = viewport.clientWidth / 2 - ((b.x0 + b.x1) / 2) * s * z;
    ty0 = viewport.clientHeight / 2 - ((b.y0 + b.y1) / 2) * s * z;
    apply();
  };

  let drawing = false;
  let start: { x: number; y: number } | null = null;
  let drag: { x: number; y: number; tx: number; ty: number } | null = null;
  const toPage = (e: PointerEvent) => {
    const r = stage.getBoundingClientRect();
    return {
      x: Math.round(Math.min(Math.max((e.clientX - r.left) / r.width, 0), 1) * dims.width),
      y: Math.round(Math.min(Math.max((e.clientY - r.top) / r.height, 0), 1) * dims.height),
    };
  };
  const showDraft = (b: Box) => {
    const d = boxEl(b, dims, '', '');
    draft.style.cssText = '';
    for (const k of ['left', 'top', 'width', 'height'] as const) draft.style[k] = d.style[k];
    draft.hidden = false;
  };
  viewport.addEventListener('pointerdown', (e) => {
    viewport.setPointerCapture(e.pointerId);
    if (drawing) start = toPage(e);
    else drag = { x: e.clientX, y: e.clientY, tx: tx0, ty: ty0 };
  });
  viewport.addEventListener('pointermove', (e) => {
    if (start) {
      const p = toPage(e);
      showDraft({ x0: Math.min(start.x, p.x), y0: Math.min(start.y, p.y), x1: Math.max(start.x, p.x), y1: Math.max(start.y, p.y) });
    } else if (drag) {
      tx0 = drag.tx + e.clientX - drag.x;
      ty0 = drag.ty + e.clientY - drag.y;
      apply();
    }
  });
  viewport.addEventListener('pointerup', (e) => {
    if (start) {
      const p = toPage(e);
      const b = { x0: Math.min(start.x, p.x), y0: Math.min(start.y, p.y), x1: Math.max(start.x, p.x), y1: Math.max(start.y, p.y) };
      start = null;
      if (b.x1 - b.x0 > 4 && b.y1 - b.y0 > 4) { showDraft(b); setDrawing(false); openEntryForm(b); } else draft.hidden = true;
    }
    drag = null;
  });
  viewport.addEventListener('wheel', (e) => {
    e.preventDefault();
    const r = viewport.getBoundingClientRect();
    zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  viewport.addEventListener('keydown', (e) => {
    const step = 60;
    const keys: Record<string, () => void> = {
      '+': () => zoomAt(1.25), '=': () => zoomAt(1.25), '-': () => zoomAt(0.8), '0': fit,
      ArrowLeft: () => { tx0 += step; apply(); }, ArrowRight: () => { tx0 -= step; apply(); },
      ArrowUp: () => { ty0 += step; apply(); }, ArrowDown: () => { ty0 -= step; apply(); },
      Escape: () => setDrawing(false),
    };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  });

  // Handwritten pages are keyed row by row: their entry zones are corrected on the zones screen. A
  // page OCR judged handwritten counts whatever its book's profile (a handwritten leaf in a typed book).
  const zonesSlot = h('span', { class: 'zones-link' });
  const zonesLink = () => replace(zonesSlot, h('a', { class: 'button secondary', href: `#/zones/${bookId}/${seq}`, 'data-testid': 'zones-link' }, t('zonesLink')));
  if (readsPersonal && page.pageType === 'handwritten') zonesLink();
  else if (readsPersonal) {
    void get<{ book: Book }>(`/books/${bookId}`).then(({ book }) => {
      if (book.ocrProfile === 'handwritten') zonesLink();
    }, () => undefined);
  }
  const drawBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => setDrawing(!drawing) }, t('drawEntry'));
  function setDrawing(on: boolean) {
    drawing = on;
    drawBtn.setAttribute('aria-pressed', String(on));
    viewport.classList.toggle('drawing', on);
    if (on) msg.ok(t('drawing'));
  }
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('viewer') },
    h('button', { type: 'button', class: 'secondary', onclick: () => go(pagePath(seq - 1)), disabled: seq <= 1, 'aria-label': t('prev') }, '‹'),
    h('span', { class: 'page-no', 'data-testid': 'page-no' }, total > 0 ? `${t('page')} ${seq} ${t('vwOf')} ${total}` : `${t('page')} ${seq}`),
    h('button', { type: 'button', class: 'secondary', onclick: () => go(pagePath(seq + 1)), disabled: total > 0 && seq >= total, 'aria-label': t('next') }, '›'),
    h('span', { class: 'sep' }),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomAt(0.8), 'aria-label': t('zoomOut') }, '−'),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomAt(1.25), 'aria-label': t('zoomIn') }, '+'),
    h('button', { type: 'button', class: 'secondary', onclick: fit }, t('fit')),
    writes ? h('span', { class: 'sep' }) : null,
    writes ? drawBtn : null,
    zonesSlot);

  const side = h('aside', { class: 'side' });
  const matches = h('section', { 'data-testid': 'matches' });
  const entryList = h('section');
  const formArea = h('section', { class: 'form-area' });
  const linksArea = h('section');
  const metaArea = pageMeta(page, objects, facts, total);
  const ocrArea = h('section', { class: 'ocr-text', 'data-testid': 'ocr-text' });
  const downloadsArea = h('section', { 'data-testid': 'downloads' });
  append(side);

  function append(s: HTMLElement) {
    replace(s, msg, matches, formArea, entryList, linksArea, metaArea, downloadsArea, ocrArea);
  }

  const loadEntries = async () => {
    const { entries } = await get<{ entries: Entry[] }>(`/books/${bookId}/pages/${seq}/entries`);
    replace(entriesLayer, entries.map((e) => {
      const b = boxEl(e.box, dims, 'entry', entryLabel(e));
      b.dataset.entryId = e.id;
      return b;
    }));
    replace(entryList, h('h2', null, `${t('entries')} (${entries.length})`),
      entries.length === 0 ? h('p', null, t('none')) : h('ul', { class: 'entries', 'data-testid': 'entries' }, entries.map((e) => h('li', null,
        h('button', { type: 'button', class: 'link', onclick: () => { focusBox(e.box); highlightEntry(e.id); } }, entryLabel(e)),
        writes ? h('button', { type: 'button', class: 'secondary small', onclick: () => openLinkForm({ entryId: e.id }, entryLabel(e)) }, t('linkToRecord')) : null))));
  };
  const highlightEntry = (id: string) => {
    for (const b of entriesLayer.querySelectorAll<HTMLElement>('.box')) b.classList.toggle('selected', b.dataset.entryId === id);
  };
  const loadLinks = async () => {
    const { links } = await get<{ links: Link[] }>(`/pages/${page.id}/links`);
    replace(linksArea, h('div', { class: 'row between' }, h('h2', null, t('links')), writes ? h('button', { type: 'button', class: 'secondary small', onclick: () => openLinkForm({ pageId: page.id }, `${t('page')} ${seq}`) }, t('linkPage')) : null),
      linkList(links, 'item'));
  };
  function openLinkForm(target: { entryId?: string; pageId?: string }, label: string) {
    replace(formArea, linkForm(target, label, async () => { replace(formArea); msg.ok(t('linked')); await loadLinks(); }, () => replace(formArea)));
    formArea.querySelector<HTMLInputElement>('input')?.focus();
  }
  function openEntryForm(b: Box) {
    const eventType = select('eventType', EVENT_TYPES.map((x) => [x, tx('', x)] as const), 'birth');
    const number = h('input', { name: 'entryNumber', maxlength: '50' });
    const date = h('input', { name: 'eventDate', pattern: '\\d{4}(-\\d{2}(-\\d{2})?)?', placeholder: 'yyyy-mm-dd' });
    const place = h('input', { name: 'place', maxlength: '200' });
    const name = h('input', { name: 'subjectName', maxlength: '200' });
    const form = h('form', {
      class: 'card', 'aria-label': t('newEntry'),
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const body: Record<string, unknown> = { box: b, eventType: eventType.value };
        if (number.value.trim()) body.entryNumber = number.value.trim();
        if (date.value.trim()) body.eventDate = date.value.trim();
        if (place.value.trim()) body.place = place.value.trim();
        if (name.value.trim()) body.names = [{ role: 'subject', name: name.value.trim() }];
        try {
          const r = await api<{ entry: Entry }>('POST', `/books/${bookId}/pages/${seq}/entries`, body);
          draft.hidden = true;
          replace(formArea);
          msg.ok(t('entryCreated'));
          await loadEntries();
          highlightEntry(r.entry.id);
        } catch (err) {
          msg.fail(err);
        }
      },
    }, h('h2', null, t('newEntry')), h('p', { class: 'hint' }, `x ${b.x0}–${b.x1}, y ${b.y0}–${b.y1}`),
    field(t('eventType'), eventType), field(t('entryNumber'), number), field(t('subjectName'), name), field(t('eventDate'), date), field(t('place'), place),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, t('createEntry')), h('button', { type: 'button', class: 'secondary', onclick: () => { draft.hidden = true; replace(formArea); } }, t('cancel'))));
    replace(formArea, form);
    number.focus();
  }

  replace(el,
    crumbs(query, bookId, title, seq),
    h('h1', { class: 'viewer-title', 'data-testid': 'book-title' }, title),
    h('div', { class: 'viewer' }, h('div', { class: 'view-main' }, toolbar, viewport, h('p', { id: 'viewer-help', class: 'hint' }, t('viewerHelp'))), side));

  const ro = new ResizeObserver(() => { if (z === 1 && tx0 === 0) fit(); });
  ro.observe(viewport);
  ctx.onLeave(() => ro.disconnect());
  fit();
  // "Open on the page" from an entry: the page zoomed onto the entry's box, the box outlined.
  const target = parseBox(query.get('box'), dims);
  if (target) {
    const mark = boxEl(target, dims, 'focus', t('vwEntryHere'));
    mark.dataset.testid = 'focus-box';
    hits.append(mark);
    zoomOnto(target);
  }

  const tasks: Promise<unknown>[] = readsPersonal ? [loadEntries(), loadLinks()] : [];
  tasks.push(loadOcrText(ocrArea, bookId, seq, page.revision), loadDownloads(downloadsArea, book, objects, roles).catch((e) => msg.fail(e)));
  if (q && readsPersonal) {
    tasks.push(get<{ hits: Hit[] }>('/search', { q, mode: query.get('mode') ?? 'words', bookId, limit: 100 }).then(({ hits: found }) => {
      const hit = found.find((x) => x.sequence === seq);
      const words = hit?.words ?? [];
      replace(hits, words.map((w) => boxEl(w.box, dims, 'hl', `${w.text} (${Math.round(w.confidence)}%)`)));
      replace(matches, h('h2', null, `${t('matches')}: “${q}”`), words.length === 0 ? h('p', null, t('noResults')) : h('ul', { class: 'words' }, words.map((w) =>
        h('li', null, h('button', { type: 'button', class: 'link', onclick: () => focusBox(w.box) }, w.text), ` ${Math.round(w.confidence)}%`))));
      if (words[0]) focusBox(words[0].box);
    }));
  }
  await Promise.all(tasks);
}
