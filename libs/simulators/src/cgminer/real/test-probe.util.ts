import { connect } from 'node:net';

/** For tests: whether the miner at `target` answers a version request (bytes before it closes the socket). */
export const CgminerClientProbe = {
  answers(target: { host: string; port: number }): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(target);
      const chunks: Buffer[] = [];
      socket.on('connect', () => socket.write('{"command":"version"}'));
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', () => resolve(false));
      socket.on('close', () => resolve(Buffer.concat(chunks).length > 0));
    });
  },
};
