import { NestLogger } from './nest-logger';

describe('NestLogger', () => {
  let lines: string[];
  let write: jest.SpyInstance;
  beforeEach(() => {
    lines = [];
    write = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; });
  });
  afterEach(() => write.mockRestore());

  it("writes Nest's errors through the controller's logger with secrets redacted, stack included", () => {
    const err = new Error('connect ECONNREFUSED mqtt://ctl:broker-pw@10.0.0.5:1883');
    new NestLogger().error(err.message, `Error: x\n    at connect (mqtt://ctl:broker-pw@10.0.0.5:1883)`, 'ExceptionHandler');
    const text = lines.join('');
    expect(text).toMatch(/ERROR \[nest\] connect ECONNREFUSED mqtt:\/\/ctl:\[redacted\]@10\.0\.0\.5:1883/);
    expect(text).toMatch(/context=ExceptionHandler/);
    expect(text).not.toContain('broker-pw');
  });

  it("keeps Nest's progress messages at debug (silent at the default level)", () => {
    new NestLogger().log('InstanceLoader dependencies initialized', 'InstanceLoader');
    expect(lines).toEqual([]);
  });
});
