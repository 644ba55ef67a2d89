export { DjangoStaticFilesProps } from './options';
export { DjangoStaticFiles } from './static-site';
export { staticFilesProblems } from './validation';
