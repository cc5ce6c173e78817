import { api, ApiError, download, get, readHeaders, session } from '../api.ts';
import { field, h, replace, select, type Child } from '../dom.ts';
import { bookHref, titleOf } from '../book-title.ts';
import { t, tx } from '../i18n.ts';
import { current, go, type ViewContext } from '../router.ts';
import type { Book, Box, Entry, Hit, Link, Page } from '../types.ts';
import { errorContent, closedNotice, isClosedRefusal, notice } from '../widgets.ts';
import { linkForm, linkList } from './records.ts';
import { EVENT_TYPES } from '../../../common/vocabulary.ts';
import { openDeepZoom, type DeepZoom, type ImageServiceInfo } from './deep-zoom.ts';
import { pageStrip } from './page-strip.ts';

/** A toolbar icon: an SVG path on a 24-unit grid, hidden from assistive technology (the button's label says it). */
function icon(d: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '18');
  svg.setAttribute('height', '18');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
}

// Four corners pointing out: the usual sign for full screen.
const FULL_SCREEN_ICON = 'M3 9V3h6M15 3h6v6M21 15v6h-6M9 21H3v-6';

/** A box drawn over the page (placed by the deep-zoom view); a labelled one is an image region to assistive technology. */
function boxEl(cls: string, label: string): HTMLElement {
  // A bare div may not carry a label: role img gives it one.
  return h('div', { class: `box ${cls}`, ...(label ? { role: 'img', title: label, 'aria-label': label } : {}) });
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

/**
 * Page viewer: deep zoom over the page's IIIF image service (OpenSeadragon), with matched words
 * highlighted, entry boxes, drawing a new entry, links, rotation, actual size, full screen and the
 * book's pages as a thumbnail strip.
 */
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

  // The deep-zoom view fills `host`; `.loading` until the tiles the view needs have arrived.
  const host = h('div', { class: 'osd-host page-img loading', 'data-testid': 'page-image' });
  const viewport = h('div', { class: 'viewport', tabindex: '0', role: 'application', 'aria-label': `${t('viewer')}. ${t('viewerHelp')}`, 'aria-describedby': 'viewer-help' }, host);
  const zoomLevel = h('span', { class: 'zoom-level', 'data-testid': 'zoom-level', title: t('vwZoomLevel') });
  let dz: DeepZoom | null = null;
  let tilesFailed = false;
  const showView = () => {
    if (!dz) return;
    const r = dz.rotation();
    zoomLevel.textContent = `${Math.round(dz.imageZoom() * 100)}%${r ? ` · ${r}°` : ''}`;
    viewport.dataset.rotation = String(r);
  };
  const imageFailed = (e: unknown) => {
    host.classList.replace('loading', 'broken');
    // A closed book's image is refused: ask for the purpose in its place, then open the page again.
    if (isClosedRefusal(e)) viewport.replaceWith(closedNotice(e, 'closedPage', 'openWithPurpose', () => go(location.hash.slice(1))));
    else msg.fail(e instanceof ApiError ? e : new Error(t('vwImageFailed')));
  };
  const ready: Promise<DeepZoom | null> = (async () => {
    const info = await get<ImageServiceInfo>(`/iiif/3/books/${bookId}/pages/${seq}/info.json`);
    if (!viewport.isConnected) return null;
    dz = await openDeepZoom(host, info, dims, {
      headers: readHeaders(),
      onView: showView,
      onLoaded: (loaded) => host.classList.toggle('loading', !loaded),
      onTileFailed: () => {
        if (tilesFailed) return;
        tilesFailed = true;
        msg.fail(new Error(t('vwTilesFailed')));
      },
    });
    if (!viewport.isConnected) { dz.destroy(); return null; }
    const frame = h('div', { class: 'page-frame', 'data-testid': 'page-frame' });
    dz.setLayer('frame', [{ box: { x0: 0, y0: 0, x1: dims.width, y1: dims.height }, el: frame }]);
    showView();
    return dz;
  })().catch((e: unknown) => { imageFailed(e); return null; });
  ctx.onLeave(() => {
    void ready.then((z) => z?.destroy());
    // Full screen lasts while turning pages, not beyond the viewer.
    if (!current().path.startsWith('/view/')) void setFullScreen(false);
  });
  const view = (f: (z: DeepZoom) => void) => () => { if (dz) f(dz); };

  viewport.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    const step = 60;
    const keys: Record<string, () => void> = {
      '+': view((z) => z.zoomBy(1.25)), '=': view((z) => z.zoomBy(1.25)), '-': view((z) => z.zoomBy(0.8)), '0': view((z) => z.fit()),
      '1': view((z) => z.actualSize()), r: view((z) => z.rotateBy(90)), R: view((z) => z.rotateBy(-90)),
      ArrowLeft: view((z) => z.panBy(-step, 0)), ArrowRight: view((z) => z.panBy(step, 0)),
      ArrowUp: view((z) => z.panBy(0, -step)), ArrowDown: view((z) => z.panBy(0, step)),
      Escape: () => setDrawing(false),
    };
    const f = keys[e.key];
    if (f) { e.preventDefault(); f(); }
  });

  // Handwritten pages are keyed row by row: their entry zones are corrected on the zones screen. A
  // page OCR judged handwritten counts whatever its book's profile (a handwritten leaf in a typed book).
  const zonesSlot = h('span', { class: 'zones-link' });
  const zonesLink = () => replace(zonesSlot, h('a', { class: 'button secondary', href: `#/zones/${bookId}/${seq}`, 'data-testid': 'zones-link' }, t('zonesLink')));
  if (readsPersonal && (page.pageType === 'handwritten' || book.ocrProfile === 'handwritten')) zonesLink();
  let drawing = false;
  const drawBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => setDrawing(!drawing) }, t('drawEntry'));
  function setDrawing(on: boolean) {
    drawing = on;
    drawBtn.setAttribute('aria-pressed', String(on));
    viewport.classList.toggle('drawing', on);
    if (on) {
      msg.ok(t('drawing'));
      dz?.startDrawing((b) => { setDrawing(false); openEntryForm(b); });
    } else dz?.stopDrawing();
  }

  // Full screen is the whole document (it outlives the redraw of each page turned); the class lays the
  // viewer over it, and stands in where the browser refuses the Fullscreen API.
  const doc = document.documentElement;
  const fullBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': String(doc.classList.contains('viewer-fullscreen')), 'aria-label': t('vwFullScreen'), title: t('vwFullScreen'), 'data-testid': 'full-screen', onclick: () => void setFullScreen(!doc.classList.contains('viewer-fullscreen')) }, icon(FULL_SCREEN_ICON));
  async function setFullScreen(on: boolean): Promise<void> {
    doc.classList.toggle('viewer-fullscreen', on);
    fullBtn.setAttribute('aria-pressed', String(on));
    if (on && !document.fullscreenElement && document.fullscreenEnabled) await doc.requestFullscreen().catch(() => undefined);
    if (!on && document.fullscreenElement) await document.exitFullscreen().catch(() => undefined);
  }
  // Leaving full screen the browser's way (Escape) leaves the viewer's too.
  const onFullScreen = () => { if (!document.fullscreenElement && doc.classList.contains('viewer-fullscreen')) void setFullScreen(false); };
  document.addEventListener('fullscreenchange', onFullScreen);
  ctx.onLeave(() => document.removeEventListener('fullscreenchange', onFullScreen));

  const btn = (label: string, text: string, f: () => void, testid?: string) =>
    h('button', { type: 'button', class: 'secondary', onclick: f, 'aria-label': label, title: label, ...(testid ? { 'data-testid': testid } : {}) }, text);
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('viewer') },
    h('button', { type: 'button', class: 'secondary', onclick: () => go(pagePath(seq - 1)), disabled: seq <= 1, 'aria-label': t('prev') }, '‹'),
    h('span', { class: 'page-no', 'data-testid': 'page-no' }, total > 0 ? `${t('page')} ${seq} ${t('vwOf')} ${total}` : `${t('page')} ${seq}`),
    h('button', { type: 'button', class: 'secondary', onclick: () => go(pagePath(seq + 1)), disabled: total > 0 && seq >= total, 'aria-label': t('next') }, '›'),
    h('span', { class: 'sep' }),
    btn(t('zoomOut'), '−', view((z) => z.zoomBy(0.8))),
    btn(t('zoomIn'), '+', view((z) => z.zoomBy(1.25))),
    h('button', { type: 'button', class: 'secondary', onclick: view((z) => z.fit()) }, t('fit')),
    btn(t('vwActualSize'), '1:1', view((z) => z.actualSize()), 'actual-size'),
    zoomLevel,
    h('span', { class: 'sep' }),
    btn(t('vwRotateLeft'), '⟲', view((z) => z.rotateBy(-90)), 'rotate-left'),
    btn(t('vwRotateRight'), '⟳', view((z) => z.rotateBy(90)), 'rotate-right'),
    fullBtn,
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
  const stripSlot = h('div', { class: 'strip-slot' });
  replace(side, msg, matches, formArea, entryList, linksArea, metaArea, downloadsArea, ocrArea);

  let entryEls: HTMLElement[] = [];
  const loadEntries = async () => {
    const { entries } = await get<{ entries: Entry[] }>(`/books/${bookId}/pages/${seq}/entries`);
    const items = entries.map((e) => {
      const b = boxEl('entry', entryLabel(e));
      b.dataset.entryId = e.id;
      return { box: e.box, el: b };
    });
    entryEls = items.map((i) => i.el);
    void ready.then((z) => z?.setLayer('entries', items));
    replace(entryList, h('h2', null, `${t('entries')} (${entries.length})`),
      entries.length === 0 ? h('p', null, t('none')) : h('ul', { class: 'entries', 'data-testid': 'entries' }, entries.map((e) => h('li', null,
        h('button', { type: 'button', class: 'link', onclick: () => { dz?.focusBox(e.box); highlightEntry(e.id); } }, entryLabel(e)),
        writes ? h('button', { type: 'button', class: 'secondary small', onclick: () => openLinkForm({ entryId: e.id }, entryLabel(e)) }, t('linkToRecord')) : null))));
  };
  const highlightEntry = (id: string) => {
    for (const b of entryEls) b.classList.toggle('selected', b.dataset.entryId === id);
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
    // The form is beside the page, which full screen covers.
    void setFullScreen(false);
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
          dz?.showDraft(null);
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
    h('div', { class: 'row' }, h('button', { type: 'submit' }, t('createEntry')), h('button', { type: 'button', class: 'secondary', onclick: () => { dz?.showDraft(null); replace(formArea); } }, t('cancel'))));
    replace(formArea, form);
    number.focus();
  }

  replace(el,
    crumbs(query, bookId, title, seq),
    h('h1', { class: 'viewer-title', 'data-testid': 'book-title' }, title),
    h('div', { class: 'viewer' }, h('div', { class: 'view-main' }, toolbar, viewport, h('p', { id: 'viewer-help', class: 'hint' }, t('viewerHelp')), stripSlot), side));

  // "Open on the page" from an entry: the page zoomed onto the entry's box, the box outlined.
  const target = parseBox(query.get('box'), dims);
  if (target) {
    const mark = boxEl('focus', t('vwEntryHere'));
    mark.dataset.testid = 'focus-box';
    void ready.then((z) => {
      z?.zoomOnto(target, true);
      z?.setLayer('focus', [{ box: target, el: mark }]);
    });
  }

  const tasks: Promise<unknown>[] = readsPersonal ? [loadEntries(), loadLinks()] : [];
  tasks.push(loadOcrText(ocrArea, bookId, seq, page.revision), loadDownloads(downloadsArea, book, objects, roles).catch((e) => msg.fail(e)));
  // The strip: every page of the book, in order (a refusal leaves it out; the page itself says why).
  tasks.push(get<{ pages: Page[] }>(`/books/${bookId}/pages`).then(({ pages }) => {
    if (pages.length > 1) replace(stripSlot, pageStrip(bookId, pages, seq, pagePath, ctx.onLeave));
  }, () => undefined));
  if (q && readsPersonal) {
    tasks.push(get<{ hits: Hit[] }>('/search', { q, mode: query.get('mode') ?? 'words', bookId, limit: 100 }).then(async ({ hits: found }) => {
      const hit = found.find((x) => x.sequence === seq);
      const words = hit?.words ?? [];
      replace(matches, h('h2', null, `${t('matches')}: “${q}”`), words.length === 0 ? h('p', null, t('noResults')) : h('ul', { class: 'words' }, words.map((w) =>
        h('li', null, h('button', { type: 'button', class: 'link', onclick: () => dz?.focusBox(w.box) }, w.text), ` ${Math.round(w.confidence)}%`))));
      const z = await ready;
      if (!z) return;
      z.setLayer('hits', words.map((w) => ({ box: w.box, el: boxEl('hl', `${w.text} (${Math.round(w.confidence)}%)`) })));
      if (words[0] && !target) z.focusBox(words[0].box, true);
    }));
  }
  await Promise.all(tasks);
}
