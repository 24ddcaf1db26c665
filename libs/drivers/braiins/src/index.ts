export * from './bos-messages';
export * from './braiins-proto.loader';
export * from './braiins-grpc.error';
export * from './braiins-grpc.client';
export * from './braiins-options';
export * from './braiins-reading.mapper';
export * from './braiins-pools.control';
export * from './braiins-grpc.driver';
