export * from './driver';
export * from './driver-error';
export * from './driver-registry';
export * from './miner-control.capability';
export * from './overclock.capability';
export * from './mining-switch.capability';
export * from './reading.sanitizer';
