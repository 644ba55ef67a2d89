export { DatabaseEngineKind, DjangoDatabaseOptions, DjangoDatabaseProps } from './options';
export { IDjangoDatabase } from './settings';
export { ExistingDjangoDatabaseAttributes } from './existing';
export { DjangoDatabase } from './database';
export { databaseOptionsProblems } from './validation';
