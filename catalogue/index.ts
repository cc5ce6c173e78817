/**
 * The catalogue in the object store (docs/catalogue-format.md): its format, the writer that keeps
 * it current, reading it back, and the check that compares it with the database.
 */
export * from './format.ts';
export { latestObjects, latestVersion, readCatalogueObject, readLatest, listCatalogueBooks, listDisposedBooks, readAuditSegments, type LatestObject, type CatalogueProblem } from './read.ts';
export { writeCatalogue, noteWritten, noteAuditWritten, AUDIT_KIND, type WriteReport, type WriteOptions } from './write.ts';
export { checkCatalogue, type CheckReport, type Difference, type DifferenceType, type CheckOptions } from './check.ts';
