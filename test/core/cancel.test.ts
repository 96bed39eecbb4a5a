/** The cancel handlers: a second signal while cancelling exits at once and says how to free what may stay held. */
import { expect, it } from '@jest/globals';
import { installCancelHandlers, onCancel } from '../../src/core/cancel.js';

it('a second signal while the first is cancelling exits at once, naming how to release a deploy lock', async () => {
  const warnings: string[] = [];
  const exits: number[] = [];
  let release: () => void = () => undefined;
  // A cleanup still running when the second signal comes (a lock being released).
  onCancel(() => new Promise<void>((resolve) => (release = resolve)));
  const remove = installCancelHandlers({ info: () => undefined, warning: (m) => warnings.push(m) }, (code) =>
    exits.push(code),
  );
  try {
    process.emit('SIGINT', 'SIGINT');
    process.emit('SIGTERM', 'SIGTERM');
    expect(exits).toEqual([143]);
    expect(warnings[1]).toBe(
      "SIGTERM again while cancelling: exiting now; a deployment lock the run held may stay held (slipway unlock --environment NAME, or deploy's force-unlock: true).",
    );
  } finally {
    release();
    remove();
  }
});
