export { WhatsminerV3Error, type WhatsminerV3ErrorContext } from './whatsminer-v3.error';
import './whatsminer-v3.framing';
export { type FrameProgress } from './whatsminer-v3.framing';
import './whatsminer-v3.crypto';
export { type V3Signature } from './whatsminer-v3.crypto';
import './whatsminer-v3.client';
export {
  type V3Credentials,
  type V3Reply,
  type V3RequestOptions,
  type WhatsminerV3ClientOptions,
} from './whatsminer-v3.client';
export {
  decodeV3ErrorCodes,
  type V3MinerErrorCode,
  type V3Replies,
  type V3Settings,
  type WhatsminerV3Identity,
} from './whatsminer-v3.decoder';
import './whatsminer-v3.options';
export { type WhatsminerV3Options } from './whatsminer-v3.options';
export { WhatsminerV3Driver, type WhatsminerV3DriverOptions, type WhatsminerV3Operation } from './whatsminer-v3.driver';
