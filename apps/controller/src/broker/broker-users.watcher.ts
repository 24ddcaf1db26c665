import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import { parseBrokerUsersFile, type BrokerUser } from '@rigwarden/security';
import type { Logger } from '@rigwarden/shared';

/** How often the users file is checked for changes (a stat). */
const POLL_MS = 1000;

/**
 * The embedded broker's users file (--broker-users), read at start and again whenever it changes (a stat a second,
 * which also sees a file that is replaced by a rename or created late). A missing file is no agents; a file that cannot
 * be read or parsed is logged and the agents read before are kept.
 */
export class BrokerUsersWatcher {
  private watching = false;

  constructor(
    private readonly path: string,
    private readonly logger: Logger,
    /** The agents of each good read, with `reread` false for the first. */
    private readonly onUsers: (users: BrokerUser[], reread: boolean) => void,
    private readonly options: { quietWhenMissing: boolean },
  ) {}

  /** Reads the file once now, then on every change until stop(). */
  start(): void {
    this.read();
    this.watching = true;
    watchFile(this.path, { interval: POLL_MS, persistent: false }, this.changed);
  }

  stop(): void {
    if (this.watching) unwatchFile(this.path, this.changed);
    this.watching = false;
  }

  private readonly changed = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size && current.ino === previous.ino) return;
    this.read();
  };

  private read(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error('cannot read the broker users file: keeping the agents read before', { file: this.path, error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
        return;
      }
      if (!this.options.quietWhenMissing) {
        this.logger.warn('no broker users file: no agent can connect until it exists (rigctl broker-config --format rigwarden writes one)', { file: this.path });
      }
      text = 'agents: {}';
    }
    let users: BrokerUser[];
    try {
      users = parseBrokerUsersFile(text, this.path);
    } catch (err) {
      this.logger.error('broker users file refused: keeping the agents read before', { error: err as Error });
      return;
    }
    this.onUsers(users, this.watching);
  }
}
