/**
 * The house's dependency rules, read from the source: which top-level folder imports which, in
 * which layer each folder sits, and where SQL text stands. `architecture.test.ts` fails the suite
 * on an import cycle between folders, an import up the layers, or SQL outside a store; run this
 * file to print the folder map:
 *
 *   npx tsx scripts/architecture.ts [--json]
 *
 * Only production code counts. Tests (`*.test.ts`), shared test suites (`*.suite.ts`,
 * `*.conformance.ts`) and the tool folders (bench, fault, test-support, scripts) may import any
 * folder, and may read the database directly: a test that checks what the code wrote should not
 * ask the code under test; nothing in production may import them.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * The layers, lowest first. A folder may import folders of lower layers, and folders of its own
 * layer as long as no cycle forms. `web` is the browser app: it imports no server file but the
 * shared vocabulary (BROWSER_SHARED_FILES).
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['common'],
  ['config', 'fixtures'],
  ['db', 'storage', 'queue', 'ocr'],
  ['pipeline'],
  ['app'],
  // events sits beside archive: the archive, keying, records and retention write to its outbox.
  ['archive', 'events'],
  ['search', 'auth', 'audit'],
  ['records', 'entries', 'keying'],
  ['ingest', 'preservation', 'retention', 'review', 'extracts', 'iiif', 'catalogue'],
  ['workers'],
  ['api'],
  ['cli'],
];

/** Folders of tools around the product: they may import anything, production imports none of them. */
export const TOOL_FOLDERS = ['bench', 'fault', 'test-support', 'scripts'] as const;
/** The browser app: built by Vite, it talks to the server over HTTP only. */
export const BROWSER_FOLDERS = ['web'] as const;
/**
 * Server files the browser app may import, and only these: the archive's closed lists, so the web
 * interface's selects and labels follow the schema. They import nothing themselves.
 */
export const BROWSER_SHARED_FILES = ['common/vocabulary.ts'] as const;

/**
 * Where SQL may stand: the database port and its migrations, the archive's model, and a store
 * module (`*.store.ts`) inside a domain folder.
 */
export function isStoreFile(file: string): boolean {
  return file.startsWith('db/') || file.startsWith('archive/') || file.endsWith('.store.ts');
}

/** Files that are tests or test suites, beside what they test. */
export function isTestFile(file: string): boolean {
  return /\.(test|suite|conformance)\.ts$/.test(file) || file.endsWith('.d.ts');
}

const SKIP_DIRS = new Set(['node_modules', '.arkiva', 'dist', '.git', 'docs']);

/** Every TypeScript file under `root`, as a path relative to it with forward slashes. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || SKIP_DIRS.has(e.name)) continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

/** One import of another top-level folder. */
export interface FolderImport {
  file: string;
  from: string;
  to: string;
  target: string;
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)(['"])(\.\.?\/[^'"]+)\1/g;

/** Every relative import in `source` (of file `file`), inside its folder or out of it. */
export function relativeImports(file: string, source: string): FolderImport[] {
  const from = topFolder(file);
  return [...source.matchAll(IMPORT)].map((m) => {
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[2]!));
    return { file, from, to: topFolder(target), target };
  });
}

/** The imports in `source` (of file `file`) that leave its top-level folder. */
export function folderImports(file: string, source: string): FolderImport[] {
  return relativeImports(file, source).filter((i) => i.to !== i.from);
}

/**
 * Imports that cross between the browser app and the server folders: any import of a server file
 * from the browser but the shared files, any import of the browser from the server, and any import
 * at all in a shared file (what it imports would reach the browser too).
 */
export function browserServerImports(imports: readonly FolderImport[]): FolderImport[] {
  const shared = (f: string) => (BROWSER_SHARED_FILES as readonly string[]).includes(f);
  return imports.filter((imp) => {
    if (shared(imp.file)) return true;
    const a = layerOf(imp.from);
    const b = layerOf(imp.to);
    if (b === 'tool' || imp.to === imp.from) return false;
    if (b === 'browser') return a !== 'browser';
    return a === 'browser' && !shared(imp.target);
  });
}

function topFolder(file: string): string {
  const i = file.indexOf('/');
  return i < 0 ? '.' : file.slice(0, i);
}

/** The layer index of a folder; tools are above everything, unknown folders are reported. */
export function layerOf(folder: string): number | 'tool' | 'browser' | undefined {
  if ((TOOL_FOLDERS as readonly string[]).includes(folder)) return 'tool';
  if ((BROWSER_FOLDERS as readonly string[]).includes(folder)) return 'browser';
  const i = LAYERS.findIndex((l) => l.includes(folder));
  return i < 0 ? undefined : i;
}

/** Strongly connected components with more than one folder: the import cycles between folders. */
export function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

// SQL statements as they are written here: upper-case keywords at the start of a statement.
const SQL = /\b(SELECT\s[\s\S]{0,400}?\bFROM\b|INSERT\s+INTO\b|UPDATE\s+[a-z_]+\s+SET\b|DELETE\s+FROM\b|CREATE\s+(?:TABLE|INDEX|SCHEMA)\b|ALTER\s+TABLE\b|TRUNCATE\s|LOCK\s+TABLE\b|pg_advisory)/;
const QUERY_CALL = /\.query\s*(?:<[^>]*>)?\s*\(/;

/** One place where SQL text or a query call stands outside a store. */
export interface SqlOutsideStore {
  file: string;
  line: number;
  text: string;
}

/** SQL text and `.query(` calls in a production file that is not a store. */
export function sqlOutsideStores(file: string, source: string): SqlOutsideStore[] {
  if (isStoreFile(file) || isTestFile(file)) return [];
  const out: SqlOutsideStore[] = [];
  const lines = source.split('\n');
  lines.forEach((text, i) => {
    const trimmed = text.trim();
    if (trimmed.startsWith('//') || trimmed.startsWith('*') || trimmed.startsWith('/*')) return;
    // a statement may run over several lines: look at this line and the next few together
    const window = lines.slice(i, i + 6).join('\n');
    const starts = SQL.exec(window);
    if ((starts && window.indexOf(starts[0]) < text.length) || QUERY_CALL.test(text)) out.push({ file, line: i + 1, text: trimmed.slice(0, 120) });
  });
  return out;
}

/** The whole report for the tree at `root`. */
export interface ArchitectureReport {
  folders: Record<string, { layer: number | 'tool' | 'browser' | undefined; imports: string[] }>;
  cycles: string[][];
  upward: FolderImport[];
  toolImports: FolderImport[];
  browserImports: FolderImport[];
  unknownFolders: string[];
  sql: SqlOutsideStore[];
}

/** Reads the tree and applies the rules. */
export function analyse(root: string): ArchitectureReport {
  const files = sourceFiles(root).filter((f) => f.includes('/'));
  const edges = new Map<string, Set<string>>();
  const imports: FolderImport[] = [];
  const sql: SqlOutsideStore[] = [];
  const sharedLocalImports: FolderImport[] = [];
  const folders = new Set<string>();
  for (const file of files) {
    const folder = topFolder(file);
    const layer = layerOf(folder);
    if (layer === 'tool' || isTestFile(file)) continue;
    folders.add(folder);
    const source = fs.readFileSync(path.join(root, file), 'utf8');
    // a shared file's imports inside its own folder reach the browser too: keep them for the browser check
    if ((BROWSER_SHARED_FILES as readonly string[]).includes(file)) sharedLocalImports.push(...relativeImports(file, source).filter((i) => i.to === i.from));
    for (const imp of folderImports(file, source)) {
      imports.push(imp);
      if (!edges.has(imp.from)) edges.set(imp.from, new Set());
      edges.get(imp.from)!.add(imp.to);
    }
    sql.push(...sqlOutsideStores(file, source));
  }
  const upward: FolderImport[] = [];
  const toolImports: FolderImport[] = [];
  const browserImports = browserServerImports([...imports, ...sharedLocalImports]);
  for (const imp of imports) {
    const a = layerOf(imp.from);
    const b = layerOf(imp.to);
    if (b === 'tool') toolImports.push(imp);
    else if (typeof a === 'number' && typeof b === 'number' && b > a) upward.push(imp);
  }
  const report: ArchitectureReport['folders'] = {};
  for (const f of [...folders].sort()) report[f] = { layer: layerOf(f), imports: [...(edges.get(f) ?? [])].sort() };
  return {
    folders: report,
    cycles: folderCycles(edges),
    upward,
    toolImports,
    browserImports,
    unknownFolders: [...folders].filter((f) => layerOf(f) === undefined && f !== '.'),
    sql,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const root = path.resolve(import.meta.dirname, '..');
  const r = analyse(root);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(r, null, 2));
  } else {
    for (const [i, layer] of LAYERS.entries()) {
      for (const f of layer) if (r.folders[f]) console.log(`${String(i).padStart(2)}  ${f.padEnd(13)} -> ${r.folders[f]!.imports.join(' ') || '(nothing)'}`);
    }
    for (const [f, v] of Object.entries(r.folders)) if (typeof v.layer !== 'number') console.log(`${String(v.layer).padStart(2)}  ${f.padEnd(13)} -> ${v.imports.join(' ') || '(nothing)'}`);
    console.log(`cycles between folders: ${r.cycles.length ? r.cycles.map((c) => c.join(' <-> ')).join('; ') : 'none'}`);
    console.log(`imports up the layers: ${r.upward.length}${r.upward.length ? '\n  ' + r.upward.map((u) => `${u.file} -> ${u.target}`).join('\n  ') : ''}`);
    console.log(`production imports of tool folders: ${r.toolImports.length}${r.toolImports.length ? '\n  ' + r.toolImports.map((u) => `${u.file} -> ${u.target}`).join('\n  ') : ''}`);
    console.log(`browser/server imports: ${r.browserImports.length}${r.browserImports.length ? '\n  ' + r.browserImports.map((u) => `${u.file} -> ${u.target}`).join('\n  ') : ''}`);
    console.log(`folders in no layer: ${r.unknownFolders.join(' ') || 'none'}`);
    const sqlFiles = new Set(r.sql.map((s) => s.file));
    console.log(`SQL outside stores: ${r.sql.length} places in ${sqlFiles.size} files${r.sql.length ? '\n  ' + [...sqlFiles].map((f) => `${f} (${r.sql.filter((s) => s.file === f).length})`).join('\n  ') : ''}`);
  }
}
