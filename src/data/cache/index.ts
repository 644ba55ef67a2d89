export { CacheEngine } from './engine';
export { DjangoCacheOptions, DjangoCacheProps } from './options';
export { IDjangoCache } from './settings';
export { DjangoCacheAttributes } from './existing';
export { DjangoCache } from './cache';
export { cacheOptionsProblems } from './validation';
