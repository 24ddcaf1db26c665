export * from './whatsminer-v3.error';
export * from './whatsminer-v3.framing';
export * from './whatsminer-v3.crypto';
export * from './whatsminer-v3.client';
export * from './whatsminer-v3.decoder';
export * from './whatsminer-v3.options';
export * from './whatsminer-v3.driver';
