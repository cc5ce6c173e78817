import { h, replace } from '../dom.ts';
import { t } from '../i18n.ts';
import type { Page } from '../types.ts';
import { apiImage } from '../widgets.ts';

/**
 * The book's pages as a strip of small thumbnails under the viewer, the current one marked; each
 * leads to its page. Thumbnails load only when scrolled into sight (a book has hundreds of pages,
 * and each image read is audited). One Tab stop: the arrow keys, Home and End move along the strip.
 */
export function pageStrip(bookId: string, pages: Pick<Page, 'sequence' | 'status' | 'revision'>[], current: number, href: (seq: number) => string, onLeave: (f: () => void) => void): HTMLElement {
  const list = h('ol', { class: 'page-strip-list' });
  const nav = h('nav', { class: 'page-strip', 'aria-label': t('vwPages'), 'data-testid': 'page-strip' }, list);
  const seen = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      seen.unobserve(e.target);
      const slot = e.target as HTMLElement;
      const seq = Number(slot.dataset.sequence);
      const p = pages.find((x) => x.sequence === seq);
      if (!p || p.status !== 'done') continue;
      replace(slot, apiImage(`/books/${bookId}/pages/${seq}/derivatives/thumb-jpeg?revision=${p.revision}`, '', { class: 'strip-thumb', 'data-testid': 'strip-thumb' }));
    }
  }, { root: nav, rootMargin: '0px 400px' });
  onLeave(() => seen.disconnect());
  const links = pages.map((p) => {
    const slot = h('span', { class: 'strip-img', 'data-sequence': String(p.sequence) }, h('span', { class: 'placeholder', 'aria-hidden': 'true' }, p.status === 'failed' ? '✕' : '…'));
    const a = h('a', {
      href: `#${href(p.sequence)}`, tabindex: p.sequence === current ? '0' : '-1', 'aria-current': p.sequence === current ? 'page' : false,
      'data-sequence': String(p.sequence),
    }, slot, h('span', { class: 'cap' }, h('span', { class: 'visually-hidden' }, `${t('page')} `), String(p.sequence)));
    seen.observe(slot);
    return a;
  });
  replace(list, links.map((a) => h('li', null, a)));
  list.addEventListener('keydown', (e) => {
    const i = links.findIndex((a) => a === document.activeElement);
    if (i < 0) return;
    const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: links.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = links[Math.min(links.length - 1, Math.max(0, to))]!;
    for (const a of links) a.tabIndex = a === next ? 0 : -1;
    next.focus();
  });
  // The current page in the middle of the strip once it is laid out (scrolling the strip only, not the window).
  requestAnimationFrame(() => {
    const a = links.find((x) => x.tabIndex === 0);
    if (a) nav.scrollLeft = a.offsetLeft - (nav.clientWidth - a.offsetWidth) / 2;
  });
  return nav;
}
