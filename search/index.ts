export { findWords, type WordHit } from './find-words.ts';
