export {
  CgminerClient,
  type CgminerClientOptions,
  type CgminerReply,
  type CgminerStatus,
  type CgminerTarget,
  checkStatus,
  decodeReply,
  type MultiOptions,
  type MultiReply,
  type RequestOptions,
} from './cgminer.client';
import './cgminer-json.decoder';
export { type CgminerRepair, type DecodedCgminerJson } from './cgminer-json.decoder';
import './cgminer-text.decoder'; // nothing of it is used outside the library
export { count, hashrateHs, num, section, str } from './cgminer-values.util';
import './avalon-mm.tokenizer'; // nothing of it is used outside the library
import './dialects/dialect';
export { type CgminerDialect, type CollectedReplies, type DialectName } from './dialects/dialect';
export { emptyReading } from './dialects/dialect-common';
import './dialects/miner-software';
export { type MinerSoftware } from './dialects/miner-software';
import './dialects/common-fields'; // nothing of it is used outside the library
export { DIALECTS, type Identification } from './dialects/dialect-identification';
import './dialects/generic.dialect';
export { type DevsContext } from './dialects/generic.dialect';
export { decodeAntminer } from './dialects/antminer.dialect';
import './dialects/whatsminer.dialect'; // nothing of it is used outside the library
import './dialects/avalon.dialect';
export { type AvalonModule } from './dialects/avalon.dialect';
import './dialects/braiins.dialect'; // nothing of it is used outside the library
import './dialects/luxos.dialect'; // nothing of it is used outside the library
import './cgminer-pool.control';
export { type PoolEntry, type PrivilegedChannel } from './cgminer-pool.control';
import './cgminer-pool.transaction';
export { type PoolState } from './cgminer-pool.transaction';
import './luxos-session.channel'; // nothing of it is used outside the library
export { whatsminerSession, type WhatsminerSession, type WhatsminerToken } from './whatsminer-v2.crypto';
import './whatsminer.control'; // nothing of it is used outside the library
export { type CgminerDriverOptions, CgminerFamilyDriver } from './cgminer.driver';
export { expandTargets, type ScanTarget } from './discovery/scan-targets.parser';
export {
  scanAll,
  scanCgminer,
  type ScanClass,
  type ScanOptions,
  type ScanResult,
} from './discovery/cgminer-discovery.scanner';
export { runProbeCommand, runScanCommand, scanRigId, type Write } from './cli/cgminer.cli';
export { type DigestChallenge, parseAuthParams, parseDigestChallenge } from './discovery/digest-challenge.parser';
export {
  classifyWebPage,
  type FetchPageOptions,
  fetchWebPage,
  identifyWebFirmware,
  type WebFirmware,
  type WebFirmwareGuess,
  type WebPage,
} from './discovery/web-firmware.fingerprint';
import './discovery/miner-identification';
export { type ApiFinding, type ControlPath, type LabelInputs, type MinerLabel } from './discovery/miner-identification';
