export * from './clock';
export * from './logger';
export * from './private-files';
