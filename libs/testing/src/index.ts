export { startInProcessBroker, startTestBroker, type TestBroker } from './test-broker';
export { makeTempDir, type TempDir } from './temp-dir';
export { waitFor } from './wait-for';
export { type RunningProcess, runNode, startNode } from './child-process';
export { TcpProxy } from './tcp-proxy';
export { makeTestCertificates, type TestCertificates } from './test-certificates';
export { grpcAuth, readAdminToken } from './admin-token';
export { type TestBrokerUsers, writeTestBrokerUsers } from './broker-users';
export { startMosquitto, type TestMosquitto } from './mosquitto';
