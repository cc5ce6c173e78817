export { ingestBook, validateMetadata, isBookOcrProfile, ocrProfileProblem, parseYears, bookOriginal, type BookSource, type IngestResult } from './ingest-book.ts';
export { retryPages, replacePage } from './fix-pages.ts';
export { detectFormat } from './detect.ts';
export { splitBook } from './split.ts';
export { folderPages, type FolderPages } from './split-images.ts';
