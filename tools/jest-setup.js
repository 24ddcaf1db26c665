// Keep test output readable: the apps log at info by default.
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
// Off a terminal the loggers write JSON lines (pino); the tests read the human lines an operator sees at a terminal,
// as do the daemons they start (libs/testing's startNode and runNode pass it on). A test of the JSON lines sets the
// format itself.
process.env.LOG_FORMAT = process.env.LOG_FORMAT || 'text';
