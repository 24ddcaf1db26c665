export * from './cgminer-simulator';
export * from './gpu/gpu-miner-simulator';
