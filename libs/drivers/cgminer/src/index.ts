export * from './cgminer-client';
export * from './cgminer-json';
export * from './cgminer-values';
export * from './cgminer.driver';
