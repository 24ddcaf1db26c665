export * from './driver';
export * from './driver-error';
export * from './driver-registry';
