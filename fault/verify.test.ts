import { describe, expect, it } from 'vitest';
import { EXPECTED_ROLES, tallyPages, type ObjectRow } from './verify.ts';

function complete(pageId: string): ObjectRow[] {
  return [
    { page_id: pageId, role: 'source', variant: '' },
    { page_id: pageId, role: 'master', variant: '' },
    { page_id: pageId, role: 'derivative', variant: 'view-jpeg' },
    { page_id: pageId, role: 'derivative', variant: 'thumb-jpeg' },
    { page_id: pageId, role: 'derivative', variant: 'pyramid-tiff' },
    { page_id: pageId, role: 'ocr', variant: 'ocr-json' },
    { page_id: pageId, role: 'ocr', variant: 'hocr' },
  ];
}

describe('tallyPages', () => {
  it('expects the roles the pipeline archives per page', () => {
    expect(EXPECTED_ROLES).toEqual({ source: 1, master: 1, derivative: 3, ocr: 2 });
  });

  it('counts nothing lost or duplicated for pages done with every object once', () => {
    const pages = [{ id: 'a', sequence: 1, status: 'done' }, { id: 'b', sequence: 2, status: 'done' }];
    expect(tallyPages(pages, [...complete('a'), ...complete('b')])).toEqual({ lost: [], duplicated: [] });
  });

  it('a page not done, or missing a variant, is lost; a variant recorded twice is duplicated', () => {
    const pages = [
      { id: 'a', sequence: 1, status: 'processing' },
      { id: 'b', sequence: 2, status: 'done' },
      { id: 'c', sequence: 3, status: 'done' },
    ];
    const rows = [...complete('a'), ...complete('b').filter((r) => r.variant !== 'hocr'), ...complete('c'), { page_id: 'c', role: 'master', variant: '' }];
    expect(tallyPages(pages, rows)).toEqual({ lost: [1, 2], duplicated: [3] });
  });

  it('a page with no rows at all is lost', () => {
    expect(tallyPages([{ id: 'z', sequence: 7, status: 'done' }], [])).toEqual({ lost: [7], duplicated: [] });
  });
});
