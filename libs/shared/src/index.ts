export * from './clock';
export * from './logger';
