import { systemPduRuntime } from './power-distribution-unit';

describe('system PDU runtime', () => {
  it('sleep resolves after the time asked', async () => {
    const started = performance.now();
    await systemPduRuntime.sleep(30);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
  });

  it('sleep rejects at once with the reason when aborted, before or during', async () => {
    const before = new AbortController();
    before.abort(new Error('gone'));
    await expect(systemPduRuntime.sleep(10_000, before.signal)).rejects.toThrow('gone');
    const during = new AbortController();
    const started = performance.now();
    setTimeout(() => during.abort(new Error('deadline')), 20);
    await expect(systemPduRuntime.sleep(10_000, during.signal)).rejects.toThrow('deadline');
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
