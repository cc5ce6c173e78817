import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyse, browserServerImports, folderCycles, folderImports, relativeImports, sqlOutsideStores } from './architecture.ts';

const root = path.resolve(import.meta.dirname, '..');

describe('the dependency rules hold for the tree', () => {
  const report = analyse(root);

  it('has no import cycle between top-level folders', () => {
    expect(report.cycles).toEqual([]);
  });

  it('imports only down the layers', () => {
    expect(report.upward.map((u) => `${u.file} -> ${u.target}`)).toEqual([]);
  });

  it('keeps tools (bench, fault, test-support, scripts) out of production code', () => {
    expect(report.toolImports.map((u) => `${u.file} -> ${u.target}`)).toEqual([]);
  });

  it('keeps the browser app apart from the server folders', () => {
    expect(report.browserImports.map((u) => `${u.file} -> ${u.target}`)).toEqual([]);
  });

  it('places every folder in a layer', () => {
    expect(report.unknownFolders).toEqual([]);
  });

  it('writes SQL only in stores and migrations', () => {
    expect(report.sql.map((s) => `${s.file}:${s.line} ${s.text}`)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('finds a cycle of three folders and none in a chain', () => {
    const cyc = new Map([['a', new Set(['b'])], ['b', new Set(['c'])], ['c', new Set(['a'])], ['d', new Set(['a'])]]);
    expect(folderCycles(cyc)).toEqual([['a', 'b', 'c']]);
    const chain = new Map([['a', new Set(['b'])], ['b', new Set(['c'])]]);
    expect(folderCycles(chain)).toEqual([]);
  });

  it('resolves relative imports to their top-level folder, static, dynamic and re-exports alike', () => {
    const src = [
      "import { a } from '../archive/index.ts';",
      "import type { B } from './local.ts';",
      "export { c } from '../../pipeline/index.ts';",
      "const m = await import('../ocr/index.ts');",
      "import x from 'node:fs';",
    ].join('\n');
    // from the top of a folder, the import that climbs two levels leaves the tree: it shows as '..'
    expect(folderImports('workers/x.ts', src).map((i) => i.to)).toEqual(['archive', '..', 'ocr']);
    // one level deeper, only the import that climbs two levels leaves the folder
    expect(folderImports('workers/stages/y.ts', src).map((i) => i.to)).toEqual(['pipeline']);
  });

  it('lets the browser import the shared vocabulary and no other server file', () => {
    const src = [
      "import { REGISTER_TYPES } from '../../../common/vocabulary.ts';",
      "import { AppError } from '../../../common/errors.ts';",
      "import { getBook } from '../../../archive/index.ts';",
      "import { h } from '../dom.ts';",
    ].join('\n');
    const crossing = browserServerImports(folderImports('web/src/views/x.ts', src)).map((i) => i.target);
    expect(crossing).toEqual(['common/errors.ts', 'archive/index.ts']);
    // the server may not import the browser app, and the shared file may import nothing at all
    expect(browserServerImports(folderImports('api/x.ts', "import { t } from '../web/src/i18n.ts';")).map((i) => i.target)).toEqual(['web/src/i18n.ts']);
    expect(browserServerImports(relativeImports('common/vocabulary.ts', "import { sha256Hex } from './hash.ts';")).map((i) => i.target)).toEqual(['common/hash.ts']);
  });

  it('finds SQL and query calls outside a store, and lets stores, tests and comments be', () => {
    const src = [
      '// SELECT id FROM books is only a comment',
      'const r = await deps.db.query<{ n: number }>(',
      '  `SELECT count(*) AS n',
      '     FROM pages WHERE book_id = $1`, [id]);',
      "await tx.query('UPDATE pages SET status = $2 WHERE id = $1', [id, s]);",
      "const text = 'select the pages from the list';",
    ].join('\n');
    const found = sqlOutsideStores('api/routes/x.route.ts', src).map((s) => s.line);
    expect(found).toEqual([2, 3, 5]);
    expect(sqlOutsideStores('retention/holds.store.ts', src)).toEqual([]);
    expect(sqlOutsideStores('archive/pages.ts', src)).toEqual([]);
    expect(sqlOutsideStores('api/routes/x.test.ts', src)).toEqual([]);
  });
});
