export * from './cgminer-simulator';
export * from './gpu/gpu-miner-simulator';
export * from './gpu/fake-nvidia-smi';
export * from './gpu/fake-amdgpu-sysfs';
export * from './cgminer/personality';
export * from './cgminer/personalities';
export * from './cgminer/stratum-pool.simulator';
export * from './cgminer/stratum-mining.engine';
