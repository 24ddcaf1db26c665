export { SecurityError, type SecurityErrorCode } from './security-error';
export { REDACTED } from './redaction';
export { SecretBytes } from './secret-bytes';
import './canonical-json'; // nothing of it is used outside the library
export {
  COMMAND_ENCODING_TAG,
  COMMAND_ENCODING_VERSION,
  type CommandPayload,
  type CommandType,
  type SignedFields,
} from './command-encoding';
export {
  type KeyInfo,
  type KeyLookup,
  type KeyRejectionReason,
  KeyRing,
  keyState,
  type KeyState,
  type SigningKey,
} from './key-ring';
import './envelope-shape.validator';
export { type ShapeProblem } from './envelope-shape.validator';
export {
  type CommandDraft,
  CommandSigner,
  type CommandSignerOptions,
  SIGNATURE_BYTES,
  signatureMatches,
} from './envelope.signer';
export {
  type EnvelopeAccepted,
  type EnvelopeRejection,
  type EnvelopeVerification,
  EnvelopeVerifier,
  type EnvelopeVerifierOptions,
  type KeyResolver,
  REJECTION_REASONS,
  type RejectionReason,
} from './envelope.verifier';
export {
  encodeEventForSigning,
  encodeResultForSigning,
  type SignedEventFields,
  type SignedResultFields,
} from './rig-message-encoding';
export {
  checkRigMessageSignature,
  type RigMessage,
  type RigMessageRejectionReason,
  type RigMessageSignatureCheck,
  RigMessageSigner,
} from './rig-message.signer';
export {
  isSealedPoolPassword,
  openPoolPassword,
  openSetPools,
  type PoolPasswordContext,
  sealPoolPassword,
  sealSetPools,
} from './pool-password.sealer';
import './nonce-store';
export { type NonceStore, type NonceVerdict } from './nonce-store';
export { MemoryNonceStore, type MemoryNonceStoreOptions } from './memory-nonce.store';
export { FileNonceStore, type FileNonceStoreOptions } from './file-nonce.store';
export { type RateDecision, type TokenBucketOptions, TokenBucketRateLimiter } from './token-bucket.rate-limiter';
export { allows, API_SCOPES, type ApiScope, isApiScope } from './api-scope';
export {
  ApiKeyHasher,
  type ApiKeyRecord,
  ApiKeyToken,
  generateApiKey,
  type NewApiKey,
  parseApiKeyToken,
} from './api-key.hasher';
export {
  type ApiKeyAccepted,
  type ApiKeyAuthentication,
  ApiKeyAuthenticator,
  type ApiKeyAuthenticatorOptions,
  type ApiKeyLookup,
  type ApiKeyRejection,
  type ApiKeyRejectionReason,
} from './api-key.authenticator';
export { MemoryApiKeyStore } from './memory-api-key.store';
export { unwrapKey, wrapKey, type WrappedKey } from './key-wrap';
export { mosquittoPasswordHash, mosquittoPasswordLine, mosquittoPasswordMatches } from './broker-password.hasher';
export {
  agentBrokerRules,
  type BrokerAccess,
  BrokerAcl,
  type BrokerAclRule,
  type BrokerAgentPrincipal,
  type BrokerPrincipals,
  controllerBrokerRules,
  isRigIdPattern,
} from './broker-acl';
export { type BrokerUser, parseBrokerUsersFile, renderBrokerUsersFile } from './broker-users.file';
export { API_KEY_PATTERN, findSecretLeaks } from './secret.scanner';
export { type MasterKey, SecretSealer } from './secret.sealer';
export { apiKeyFromAuthorization, RpcScopes, type RpcScopeTable, type ServiceDefinitionLike } from './rpc-scopes';
export { AuditChain, type AuditChainCheck, type AuditEntry, type ChainedAuditEntry } from './audit-chain';
export { fromStoredKey, type StoredKey, toStoredKey } from './key-record.mapper';
export { parseRigKeyFile, RigKeyFile } from './rig-key-file.loader';
export { addKeyToRigKeyFile, retireKeyInRigKeyFile, type RigKeyFileChange } from './rig-key-file.writer';
