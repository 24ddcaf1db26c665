export * from './test-broker';
export * from './temp-dir';
export * from './wait-for';
export * from './child-process';
export * from './tcp-proxy';
export * from './test-certificates';
export * from './admin-token';
export * from './broker-users';
