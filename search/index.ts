export { findWords, type WordHit } from './find-words.ts';
export { normaliseWord, normaliseTokens, normaliseText, cyrillicToLatin, editDistance } from './normalise.ts';
export {
  searchPages, SEARCH_MODES, FUZZY_THRESHOLD,
  type SearchMode, type PageSearchQuery, type PageSearchHit, type PageSearchResult, type MatchedWord,
} from './search-pages.ts';
export { pruneSearchTerms } from './search.store.ts';
export type { PageSearchScope } from './search-pages.ts';
