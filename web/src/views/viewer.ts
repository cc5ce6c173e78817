import { api, get, session } from '../api.ts';
import { field, h, replace, select } from '../dom.ts';
import { t, tx } from '../i18n.ts';
import { go, type ViewContext } from '../router.ts';
import type { Box, Entry, Hit, Link, Page } from '../types.ts';
import { apiImage, notice } from '../widgets.ts';
import { linkForm, linkList } from './records.ts';
import { EVENT_TYPES } from '../../../common/vocabulary.ts';

const MAX_IMAGE_WIDTH = 2000;

/** A box as a positioned element, in percent of the page, so it follows any zoom. */
function boxEl(b: Box, page: { width: number; height: number }, cls: string, label: string): HTMLElement {
  const el = h('div', { class: `box ${cls}`, title: label, 'aria-label': label });
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

/** Page viewer: zoom and pan, matched words highlighted, entry boxes, drawing a new entry, links. */
export async function pageView(ctx: ViewContext): Promise<void> {
  const { el, params, query } = ctx;
  const bookId = params.bookId!;
  const seq = Number(params.seq);
  const { page } = await get<{ page: Page }>(`/books/${bookId}/pages/${seq}`);
  if (!page.width || !page.height) throw new Error(`${t('page')} ${seq}: ${tx('s_', page.status)}`);
  const dims = { width: page.width, height: page.height };
  const q = query.get('q') ?? '';
  const msg = notice();
  const roles = session.user?.roles ?? [];
  // Entries and links are personal data (clerks, records managers); only clerks create them.
  const readsPersonal = roles.some((r) => r === 'clerk' || r === 'records_manager');
  const writes = roles.includes('clerk');

  // Stage: the image and every overlay at the image's natural size; zoom and pan are one transform.
  const imgWidth = Math.min(dims.width, MAX_IMAGE_WIDTH);
  const img = apiImage(`/books/${bookId}/pages/${seq}/image?width=${imgWidth}&revision=${page.revision}`, `${t('page')} ${seq}`, { class: 'page-img', draggable: 'false' });
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

  const drawBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', onclick: () => setDrawing(!drawing) }, t('drawEntry'));
  function setDrawing(on: boolean) {
    drawing = on;
    drawBtn.setAttribute('aria-pressed', String(on));
    viewport.classList.toggle('drawing', on);
    if (on) msg.ok(t('drawing'));
  }
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('viewer') },
    h('button', { type: 'button', class: 'secondary', onclick: () => go(`/view/${bookId}/${seq - 1}${location.hash.includes('?') ? `?${location.hash.split('?')[1]}` : ''}`), disabled: seq <= 1, 'aria-label': t('prev') }, '‹'),
    h('span', { class: 'page-no' }, `${t('page')} ${seq}`),
    h('button', { type: 'button', class: 'secondary', onclick: () => go(`/view/${bookId}/${seq + 1}${location.hash.includes('?') ? `?${location.hash.split('?')[1]}` : ''}`), 'aria-label': t('next') }, '›'),
    h('span', { class: 'sep' }),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomAt(0.8), 'aria-label': t('zoomOut') }, '−'),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomAt(1.25), 'aria-label': t('zoomIn') }, '+'),
    h('button', { type: 'button', class: 'secondary', onclick: fit }, t('fit')),
    writes ? h('span', { class: 'sep' }) : null,
    writes ? drawBtn : null);

  const side = h('aside', { class: 'side' });
  const matches = h('section', { 'data-testid': 'matches' });
  const entryList = h('section');
  const formArea = h('section', { class: 'form-area' });
  const linksArea = h('section');
  append(side);

  function append(s: HTMLElement) {
    replace(s, msg, matches, formArea, entryList, linksArea);
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
    h('p', { class: 'crumbs' }, h('a', { href: q ? `#/search?${new URLSearchParams({ q })}` : `#/books/${bookId}` }, q ? t('search') : t('books')), ' › ', `${t('page')} ${seq}`),
    h('h1', { class: 'visually-hidden' }, `${t('viewer')} – ${t('page')} ${seq}`),
    h('div', { class: 'viewer' }, h('div', { class: 'view-main' }, toolbar, viewport, h('p', { id: 'viewer-help', class: 'hint' }, t('viewerHelp'))), side));

  const ro = new ResizeObserver(() => { if (z === 1 && tx0 === 0) fit(); });
  ro.observe(viewport);
  ctx.onLeave(() => ro.disconnect());
  fit();

  const tasks: Promise<unknown>[] = readsPersonal ? [loadEntries(), loadLinks()] : [];
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
