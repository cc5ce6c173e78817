import { api, ApiError, get, session } from '../api.ts';
import { h, replace } from '../dom.ts';
import { t, tx } from '../i18n.ts';
import type { ViewContext } from '../router.ts';
import type { Box, Page } from '../types.ts';
import { adjacent, clamp, mergedCells, reshape, spanBox, splitShapes, type Shape, type Zone } from './zone-geometry.ts';
import { apiImage, errorText, notice } from '../widgets.ts';

type Handle = 'nw' | 'ne' | 'sw' | 'se';

const MAX_IMAGE_WIDTH = 2000;
// Boxes smaller than this (master pixels) are a slip of the pointer, not a row.
const MIN_SIDE = 4;

/** One change of a zone's history, as GET /keying/zones/{id}/changes gives it. */
interface ZoneChange {
  zoneId: string;
  op: 'move' | 'split' | 'merge';
  before: Shape;
  after: Shape | Shape[];
  resultZoneIds: string[];
  changedBy: string;
  changedAt: string;
}

const span = (s: Shape) => `y ${s.box.y0}–${s.box.y1}, x ${s.box.x0}–${s.box.x1}`;

/** A change told in a line: what it did, from what shape to what, by whom and when. */
function changeLine(c: ZoneChange, of: string): HTMLElement {
  const after = Array.isArray(c.after) ? c.after.map(span).join(' + ') : span(c.after);
  // A split or merge recorded on another zone is how this one came to be.
  const what = c.zoneId === of ? tx('zop_', c.op) : `${t('zoneMadeBy')} ${tx('zop_', c.op)}`;
  return h('li', { 'data-op': c.op },
    h('strong', null, what), ' ', h('span', null, `${span(c.before)} → ${after}`), h('br'),
    h('small', { class: 'hint' }, `${c.changedBy} · ${new Date(c.changedAt).toLocaleString()}`));
}

/** A zone as the page's zone list gives it, with its review flag. */
type ListedZone = Zone & { reviewReason?: string | null };

function place(el: HTMLElement, b: Box, dims: { width: number; height: number }): void {
  el.style.left = `${(b.x0 / dims.width) * 100}%`;
  el.style.top = `${(b.y0 / dims.height) * 100}%`;
  el.style.width = `${((b.x1 - b.x0) / dims.width) * 100}%`;
  el.style.height = `${((b.y1 - b.y0) / dims.height) * 100}%`;
}

/**
 * Zone correction: a page's entry zones drawn over its image; a keyer moves or resizes one (drag
 * or keyboard), splits one at a height, merges adjacent ones, or draws a missing one. Every action
 * is one API call, kept with the zone's history; the page is then read again.
 */
export async function zonesView(ctx: ViewContext): Promise<void> {
  const { el, params } = ctx;
  const bookId = params.bookId!;
  const seq = Number(params.seq);
  const { page } = await get<{ page: Page }>(`/books/${bookId}/pages/${seq}`);
  if (!page.width || !page.height) throw new Error(`${t('page')} ${seq}: ${tx('s_', page.status)}`);
  const dims = { width: page.width, height: page.height };
  const writes = (session.user?.roles ?? []).some((r) => r === 'clerk' || r === 'reviewer');
  // One keyboard step: about a quarter of a ruled line's thickness at any scan resolution.
  const step = Math.max(1, Math.round(dims.height / 400));
  const msg = notice();

  let zones: ListedZone[] = [];
  let selected: string[] = [];
  /** A keyboard move not yet saved (Enter saves, Escape drops it). */
  let pending: { id: string; shape: Shape } | null = null;
  let mode: 'select' | 'draw' | 'split' = 'select';
  let zoom = 1;

  const imgWidth = Math.min(dims.width, MAX_IMAGE_WIDTH);
  const img = apiImage(`/books/${bookId}/pages/${seq}/image?width=${imgWidth}&revision=${page.revision}`, `${t('page')} ${seq}`, { class: 'page-img', draggable: 'false' });
  const layer = h('div', { class: 'zone-layer', 'data-testid': 'zone-layer' });
  const draft = h('div', { class: 'zone-draft', hidden: true });
  const guide = h('div', { class: 'zone-guide', hidden: true });
  const stage = h('div', { class: 'zone-stage' }, img, layer, draft, guide);
  const viewport = h('div', { class: 'zone-viewport', 'aria-describedby': 'zones-help' }, stage);
  const list = h('ol', { class: 'zone-list', 'data-testid': 'zone-list' });
  const history = h('ol', { class: 'zone-history', 'data-testid': 'zone-history', 'aria-live': 'polite' });
  const historyHint = h('p', { class: 'hint' }, t('zoneHistoryPick'));
  let historyOf = '';
  /** Shows the history of the one selected zone (read again after each correction). */
  async function showHistory(): Promise<void> {
    const id = selected.length === 1 ? selected[0]! : '';
    historyOf = id;
    if (!id) { replace(history); historyHint.textContent = t('zoneHistoryPick'); return; }
    try {
      const { changes } = await get<{ changes: ZoneChange[] }>(`/keying/zones/${id}/changes`);
      if (historyOf !== id) return;
      historyHint.textContent = changes.length ? '' : t('zoneHistoryNone');
      replace(history, changes.map((c) => changeLine(c, id)));
    } catch (e) {
      if (historyOf === id) msg.fail(e);
    }
  }
  const splitY = h('input', { type: 'number', id: 'split-y', name: 'splitY', step: '1', disabled: true });
  const drawBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', disabled: !writes, onclick: () => setMode(mode === 'draw' ? 'select' : 'draw') }, t('zoneDraw'));
  const splitModeBtn = h('button', { type: 'button', class: 'secondary', 'aria-pressed': 'false', disabled: true, onclick: () => setMode(mode === 'split' ? 'select' : 'split') }, t('zoneSplitPick'));
  const splitBtn = h('button', { type: 'button', disabled: true, onclick: () => void split(Number(splitY.value)) }, t('zoneSplit'));
  const mergeBtn = h('button', { type: 'button', disabled: true, onclick: () => void merge() }, t('zoneMerge'));
  const saveBtn = h('button', { type: 'button', disabled: true, onclick: () => void savePending() }, t('zoneSaveMove'));
  const stageWidth = () => Math.max(200, (viewport.clientWidth || imgWidth) * zoom);
  const sizeStage = () => {
    const w = stageWidth();
    stage.style.width = `${w}px`;
    stage.style.height = `${(w * dims.height) / dims.width}px`;
  };

  function setMode(m: typeof mode) {
    mode = m;
    drawBtn.setAttribute('aria-pressed', String(m === 'draw'));
    splitModeBtn.setAttribute('aria-pressed', String(m === 'split'));
    viewport.classList.toggle('drawing', m === 'draw');
    viewport.classList.toggle('splitting', m === 'split');
    if (m === 'draw') msg.ok(t('zoneDrawHint'));
    else if (m === 'split') msg.ok(t('zoneSplitHint'));
    else guide.hidden = true;
  }

  const toPage = (e: PointerEvent) => {
    const r = stage.getBoundingClientRect();
    return { x: Math.round(clamp((e.clientX - r.left) / r.width, 0, 1) * dims.width), y: Math.round(clamp((e.clientY - r.top) / r.height, 0, 1) * dims.height) };
  };
  const zoneById = (id: string) => zones.find((z) => z.id === id);
  const shapeOf = (id: string): Shape => {
    if (pending?.id === id) return pending.shape;
    const z = zoneById(id)!;
    return { box: z.box, cells: z.cells };
  };
  // The pointer handler prevents the default focus change, so keys go to the zone just clicked.
  const focusZone = (id: string) => document.getElementById(`zone-${id}`)?.focus();

  /** Calls the API for one correction; a refusal (a keyed zone, a box off the page) is shown as the API words it. */
  async function act(run: () => Promise<string[]>, done: string): Promise<void> {
    msg.clear();
    try {
      const ids = await run();
      pending = null;
      await load(ids);
      msg.ok(done);
    } catch (e) {
      msg.fail(e instanceof ApiError && e.code === 'ERR_CONFLICT' ? new Error(`${t('zoneRefused')}: ${errorText(e)}`) : e);
    }
  }

  const savePending = () => {
    const p = pending;
    if (!p) return Promise.resolve();
    return act(async () => {
      await api('PATCH', `/keying/zones/${p.id}`, p.shape);
      return [p.id];
    }, t('zoneMoved'));
  };

  const split = (y: number) => {
    const id = selected[0];
    if (selected.length !== 1 || !id) return Promise.resolve();
    const shape = shapeOf(id);
    if (!(Number.isInteger(y) && y > shape.box.y0 + 1 && y < shape.box.y1 - 1)) {
      msg.fail(new Error(`${t('zoneSplitRange')} ${shape.box.y0 + 2}–${shape.box.y1 - 2}`));
      return Promise.resolve();
    }
    return act(async () => {
      const r = await api<{ zones: Zone[] }>('POST', `/keying/zones/${id}/split`, { zones: splitShapes(shape, y) });
      return r.zones.map((z) => z.id);
    }, t('zoneSplitDone'));
  };

  const merge = () => {
    const chosen = selected.map(zoneById).filter((z): z is Zone => z !== undefined);
    if (!adjacent(chosen, zones)) {
      msg.fail(new Error(t('zoneNotAdjacent')));
      return Promise.resolve();
    }
    const box = { x0: Math.min(...chosen.map((z) => z.box.x0)), y0: Math.min(...chosen.map((z) => z.box.y0)), x1: Math.max(...chosen.map((z) => z.box.x1)), y1: Math.max(...chosen.map((z) => z.box.y1)) };
    return act(async () => {
      const r = await api<{ zone: Zone }>('POST', '/keying/zones/merge', { zoneIds: chosen.map((z) => z.id), box, cells: mergedCells(chosen, box) });
      return [r.zone.id];
    }, t('zoneMerged'));
  };

  const create = (box: Box) => act(async () => {
    // A drawn zone joins the layout the page's other zones were made with, so its row is keyed alike.
    const ref = zones[0];
    const r = await api<{ zones: Zone[] }>('POST', `/books/${bookId}/pages/${seq}/zones`, {
      source: 'drawn', zones: [{ box }], ...(ref ? { layoutKey: ref.layoutKey, layoutVersion: ref.layoutVersion } : {}),
    });
    return r.zones.map((z) => z.id);
  }, t('zoneCreated'));

  function select(id: string, toggle: boolean) {
    if (pending && pending.id !== id) pending = null;
    selected = toggle ? (selected.includes(id) ? selected.filter((x) => x !== id) : [...selected, id]) : [id];
    draw();
  }

  function nudge(id: string, e: KeyboardEvent): boolean {
    const d = e.shiftKey ? step * 10 : step;
    const { box } = shapeOf(id);
    const b = { ...box };
    const dx = e.key === 'ArrowLeft' ? -d : e.key === 'ArrowRight' ? d : 0;
    const dy = e.key === 'ArrowUp' ? -d : e.key === 'ArrowDown' ? d : 0;
    if (!dx && !dy) return false;
    if (e.altKey) {
      // Alt resizes from the bottom-right corner.
      b.x1 = clamp(b.x1 + dx, b.x0 + MIN_SIDE, dims.width);
      b.y1 = clamp(b.y1 + dy, b.y0 + MIN_SIDE, dims.height);
    } else {
      const mx = clamp(dx, -b.x0, dims.width - b.x1);
      const my = clamp(dy, -b.y0, dims.height - b.y1);
      Object.assign(b, { x0: b.x0 + mx, x1: b.x1 + mx, y0: b.y0 + my, y1: b.y1 + my });
    }
    pending = { id, shape: reshape(shapeOf(id), b) };
    return true;
  }

  function zoneEl(z: Zone, index: number): HTMLElement {
    const isSel = selected.includes(z.id);
    const shape = shapeOf(z.id);
    const moved = pending?.id === z.id;
    const el = h('div', {
      class: `zone-box zs-${z.status}${isSel ? ' selected' : ''}${moved ? ' unsaved' : ''}`,
      id: `zone-${z.id}`, tabindex: '0', role: 'button', 'aria-pressed': String(isSel), 'data-zone-id': z.id,
      'aria-label': `${t('zoneRow')} ${index + 1}, ${tx('zs_', z.status)}, y ${shape.box.y0}–${shape.box.y1}${moved ? `, ${t('zoneUnsaved')}` : ''}`,
    }, h('span', { class: 'zone-tag', 'aria-hidden': 'true' }, String(index + 1)));
    place(el, shape.box, dims);
    for (const c of shape.cells) {
      const cell = h('div', { class: 'zone-cell', 'aria-hidden': 'true' });
      place(cell, { x0: c.x0 - shape.box.x0, y0: c.y0 - shape.box.y0, x1: c.x1 - shape.box.x0, y1: c.y1 - shape.box.y0 }, { width: shape.box.x1 - shape.box.x0, height: shape.box.y1 - shape.box.y0 });
      el.append(cell);
    }
    if (isSel && selected.length === 1 && writes) for (const hd of ['nw', 'ne', 'sw', 'se'] as const) el.append(h('span', { class: `zone-handle ${hd}`, 'data-handle': hd, 'aria-hidden': 'true' }));
    el.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        if (pending?.id === z.id) void savePending();
        else select(z.id, false);
      } else if (e.key === ' ') {
        e.preventDefault();
        select(z.id, true);
      } else if (e.key === 'Escape') {
        if (pending) { pending = null; draw(); msg.clear(); }
      } else if (writes && e.key.startsWith('Arrow')) {
        e.preventDefault();
        if (!selected.includes(z.id) || selected.length !== 1) selected = [z.id];
        if (nudge(z.id, e)) draw();
      }
    });
    return el;
  }

  function draw() {
    // Redrawing replaces the elements: focus goes back to the same zone or checkbox.
    const focused = document.activeElement?.id;
    replace(layer, zones.map(zoneEl));
    replace(list, zones.map((z, i) => {
      const box = h('input', { type: 'checkbox', id: `zsel-${z.id}`, checked: selected.includes(z.id), onchange: () => select(z.id, true) });
      return h('li', { class: selected.includes(z.id) ? 'selected' : null }, box,
        h('label', { for: box.id }, `${t('zoneRow')} ${i + 1}`), ' ',
        h('span', { class: `badge zs-${z.status}` }, tx('zs_', z.status)), ' ',
        z.reviewReason ? [h('span', { class: 'badge warn', title: z.reviewReason, 'data-testid': 'zone-review' }, t('zoneNeedsReview')), ' '] : null,
        h('small', { class: 'hint' }, `y ${z.box.y0}–${z.box.y1} · ${tx('zsrc_', z.source)}`));
    }));
    const one = selected.length === 1 ? shapeOf(selected[0]!) : null;
    splitY.disabled = !writes || !one;
    splitModeBtn.disabled = !writes || !one;
    splitBtn.disabled = !writes || !one;
    if (one) {
      splitY.min = String(one.box.y0 + 2);
      splitY.max = String(one.box.y1 - 2);
      const y = Number(splitY.value);
      if (!(y > one.box.y0 + 1 && y < one.box.y1 - 1)) splitY.value = String(Math.round((one.box.y0 + one.box.y1) / 2));
    }
    mergeBtn.disabled = !writes || selected.length < 2;
    saveBtn.disabled = !writes || !pending;
    if (focused) document.getElementById(focused)?.focus();
    showGuide();
    const one1 = selected.length === 1 ? selected[0]! : '';
    if (one1 !== historyOf || changed) void showHistory();
    changed = false;
  }

  function showGuide() {
    const id = selected[0];
    if (selected.length !== 1 || !id || !(mode === 'split' || document.activeElement === splitY)) { guide.hidden = true; return; }
    const { box } = shapeOf(id);
    const y = clamp(Number(splitY.value), box.y0, box.y1);
    place(guide, { x0: box.x0, x1: box.x1, y0: y, y1: y + 1 }, dims);
    guide.hidden = false;
  }

  // Set when the page is read again after a correction: the selected zone's history has grown.
  let changed = false;
  async function load(keep: string[] = selected) {
    ({ zones } = await get<{ zones: ListedZone[] }>(`/books/${bookId}/pages/${seq}/zones`));
    changed = true;
    selected = keep.filter((id) => zoneById(id));
    summary.textContent = `${zones.length} ${t('zonesCount')}`;
    draw();
  }

  // Pointer: drag a selected zone's body to move it, a handle to resize it; draw or split by mode.
  let gesture: { kind: 'move' | 'resize' | 'draw'; id?: string; handle?: Handle; from: { x: number; y: number }; start: Shape } | null = null;
  viewport.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    const target = e.target as HTMLElement;
    const p = toPage(e);
    const zoneEl = target.closest<HTMLElement>('.zone-box');
    const id = zoneEl?.dataset.zoneId;
    if (mode === 'draw' && writes) {
      gesture = { kind: 'draw', from: p, start: { box: spanBox(p, p), cells: [] } };
    } else if (mode === 'split' && id && selected.length === 1 && id === selected[0]) {
      splitY.value = String(p.y);
      setMode('select');
      void split(p.y);
      return;
    } else if (id) {
      if (e.ctrlKey || e.metaKey || e.shiftKey) { select(id, true); focusZone(id); return; }
      if (!selected.includes(id) || selected.length !== 1) select(id, false);
      focusZone(id);
      if (!writes) return;
      const handle = target.dataset.handle as Handle | undefined;
      gesture = { kind: handle ? 'resize' : 'move', id, ...(handle ? { handle } : {}), from: p, start: shapeOf(id) };
    } else return;
    viewport.setPointerCapture(e.pointerId);
    e.preventDefault();
  });
  viewport.addEventListener('pointermove', (e) => {
    const p = toPage(e);
    if (mode === 'split' && selected.length === 1) {
      splitY.value = String(p.y);
      showGuide();
    }
    if (!gesture) return;
    if (gesture.kind === 'draw') {
      place(draft, spanBox(gesture.from, p), dims);
      draft.hidden = false;
      return;
    }
    const b = { ...gesture.start.box };
    const dx = p.x - gesture.from.x;
    const dy = p.y - gesture.from.y;
    if (gesture.kind === 'move') {
      const mx = clamp(dx, -b.x0, dims.width - b.x1);
      const my = clamp(dy, -b.y0, dims.height - b.y1);
      Object.assign(b, { x0: b.x0 + mx, x1: b.x1 + mx, y0: b.y0 + my, y1: b.y1 + my });
    } else {
      const hd = gesture.handle!;
      if (hd.includes('w')) b.x0 = clamp(b.x0 + dx, 0, b.x1 - MIN_SIDE); else b.x1 = clamp(b.x1 + dx, b.x0 + MIN_SIDE, dims.width);
      if (hd.includes('n')) b.y0 = clamp(b.y0 + dy, 0, b.y1 - MIN_SIDE); else b.y1 = clamp(b.y1 + dy, b.y0 + MIN_SIDE, dims.height);
    }
    pending = { id: gesture.id!, shape: reshape(gesture.start, b) };
    draw();
  });
  viewport.addEventListener('pointerup', (e) => {
    const g = gesture;
    gesture = null;
    if (!g) return;
    if (g.kind === 'draw') {
      const b = spanBox(g.from, toPage(e));
      draft.hidden = true;
      setMode('select');
      if (b.x1 - b.x0 > MIN_SIDE && b.y1 - b.y0 > MIN_SIDE) void create(b);
      return;
    }
    // A click without a drag only selects; a drag is one correction, saved at once.
    const cur = pending as { id: string; shape: Shape } | null;
    const moved = cur !== null && cur.id === g.id && JSON.stringify(cur.shape.box) !== JSON.stringify(g.start.box);
    if (moved) void savePending();
  });
  viewport.addEventListener('keydown', (e) => { if (e.key === 'Escape' && mode !== 'select') { setMode('select'); msg.clear(); } });
  splitY.addEventListener('input', showGuide);
  splitY.addEventListener('focus', showGuide);
  splitY.addEventListener('blur', () => { if (mode !== 'split') guide.hidden = true; });
  splitY.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); void split(Number(splitY.value)); } });

  const zoomBy = (f: number) => { zoom = clamp(zoom * f, 0.5, 6); sizeStage(); };
  const summary = h('p', { class: 'hint', 'data-testid': 'zone-summary' });
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': t('zonesTitle') },
    h('a', { class: 'button secondary', href: `#/zones/${bookId}/${seq - 1}`, 'aria-label': t('prev'), hidden: seq <= 1 }, '‹'),
    h('span', { class: 'page-no' }, `${t('page')} ${seq}`),
    h('a', { class: 'button secondary', href: `#/zones/${bookId}/${seq + 1}`, 'aria-label': t('next') }, '›'),
    h('span', { class: 'sep' }),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomBy(0.8), 'aria-label': t('zoomOut') }, '−'),
    h('button', { type: 'button', class: 'secondary', onclick: () => zoomBy(1.25), 'aria-label': t('zoomIn') }, '+'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { zoom = 1; sizeStage(); } }, t('fit')),
    writes ? [h('span', { class: 'sep' }), drawBtn, splitModeBtn, mergeBtn, saveBtn] : null);

  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: `#/view/${bookId}/${seq}` }, `${t('page')} ${seq}`), ' › ', t('zonesTitle')),
    h('h1', null, `${t('zonesTitle')} – ${t('page')} ${seq}`),
    h('div', { class: 'viewer' },
      h('div', { class: 'view-main' }, toolbar, viewport, h('p', { id: 'zones-help', class: 'hint' }, writes ? t('zonesHelp') : t('zonesReadOnly'))),
      h('aside', { class: 'side' }, msg, summary,
        h('section', null, h('h2', null, t('zonesList')), list),
        h('section', { class: 'card' }, h('h2', null, t('zoneHistory')), historyHint, history),
        writes ? h('section', { class: 'card' }, h('h2', null, t('zoneSplit')),
          h('div', { class: 'field' }, h('label', { for: 'split-y' }, t('zoneSplitAt')), splitY, h('small', { class: 'hint' }, t('zoneSplitAtHint'))),
          splitBtn) : null)));

  // Only a change of the viewport's width refits the page (its height follows the page it holds).
  let lastWidth = 0;
  const ro = new ResizeObserver(() => {
    if (Math.abs(viewport.clientWidth - lastWidth) < 2) return;
    lastWidth = viewport.clientWidth;
    sizeStage();
  });
  ro.observe(viewport);
  ctx.onLeave(() => ro.disconnect());
  sizeStage();
  await load([]);
}
