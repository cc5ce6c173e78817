export * from './types.ts';
export * from './books.ts';
export * from './pages.ts';
export * from './objects.ts';
export * from './events.ts';
export * from './archived-ocr.ts';
export * from './reads.ts';
export * from './pipeline-rows.ts';
