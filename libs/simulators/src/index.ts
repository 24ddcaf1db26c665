export * from './cgminer-simulator';
