// Keep test output readable: the apps log at info by default.
process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'warn';
