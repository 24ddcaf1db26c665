// Moved to @rigwarden/drivers-cgminer (libs/drivers/cgminer/src/discovery/web-firmware.fingerprint.ts) so the scanner and
// the `auto` driver can call it (this lib depends on drivers-cgminer, not the other way); kept here for its importers.
export {
  classifyWebPage, fetchWebPage, identifyWebFirmware,
  type FetchPageOptions, type WebFirmware, type WebFirmwareGuess, type WebPage,
} from '@rigwarden/drivers-cgminer';
