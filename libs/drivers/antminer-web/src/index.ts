import './antminer-web.error';
export { type AntminerWebErrorContext } from './antminer-web.error';
import './digest-auth';
export { type DigestChallenge, type DigestCredentials, type DigestInput } from './digest-auth';
import './firmware-json';
export { type FirmwareJson } from './firmware-json';
import './antminer-web.client';
export { type AntminerWebTarget, type WebRequest, type WebResponse } from './antminer-web.client';
import './antminer-web.fingerprint';
export { type WebFingerprint, type WebFingerprintKind } from './antminer-web.fingerprint';
import './antminer-web.decoder';
export {
  type ConfGeneration,
  type ConfPool,
  type MinerConf,
  type MinerReading,
  type NetworkInfo,
  type SystemInfo,
  type WebInfo,
  type WebStats,
  type WebSummary,
} from './antminer-web.decoder';
import './miner-conf.writer';
export { type ConfChange, type WriteReply } from './miner-conf.writer';
import './antminer-web.options';
export { type AntminerWebOptions } from './antminer-web.options';
import './reading.merge'; // nothing of it is used outside the library
import './antminer-web.driver';
export { type AntminerWebDriverDeps } from './antminer-web.driver';
import './web-firmware.fingerprint';
export {
  type FetchPageOptions,
  type WebFirmware,
  type WebFirmwareGuess,
  type WebPage,
} from './web-firmware.fingerprint';
