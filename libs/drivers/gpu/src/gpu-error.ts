/**
 * The GPU lib's error family for everything that is not a miner API call
 * (those throw the drivers' DriverError so the agent runtime maps them as for any
 * other driver): OS sensors, actuators and the miner process supervisor.
 * Every error names the operation and carries the command, the GPU and, for
 * files, the sysfs path.
 */
export type GpuErrorKind =
  | 'not_installed'      // nvidia-smi / nvidia-settings not on PATH
  | 'driver_not_loaded'  // "couldn't communicate with the NVIDIA driver"
  | 'gpu_lost'           // "GPU is lost": the device fell off the bus
  | 'no_gpu'             // no device with that index / bus id
  | 'timeout'            // a read or a command did not finish in time
  | 'command_failed'     // non-zero exit with a message we do not classify further
  | 'permission_denied'  // needs root, or a sysfs file is read-only
  | 'parse'              // output we could not decode
  | 'unsupported'        // the device, driver or setup cannot do this
  | 'out_of_range'       // a requested value outside the device's limits
  | 'apply_failed'       // tuning failed part-way; defaults were restored
  | 'spawn_failed'       // the supervised miner could not be started
  | 'aborted';

export interface GpuErrorContext {
  /** The tool or file operation, e.g. "nvidia-smi --query-gpu", "read temp1_input". */
  command?: string;
  gpuIndex?: number;
  pciBusId?: string;
  /** sysfs or executable path. */
  path?: string;
  host?: string;
  exitCode?: number | null;
  signal?: string | null;
  /** The first part of the tool's output, for logs. */
  output?: string;
}

export class GpuError extends Error {
  override readonly name = 'GpuError';
  constructor(
    readonly kind: GpuErrorKind,
    message: string,
    readonly context: GpuErrorContext = {},
    options?: { cause?: unknown },
  ) {
    super(`${describeContext(context)}${message}`, options);
  }
}

function describeContext(context: GpuErrorContext): string {
  const parts: string[] = [];
  if (context.host) parts.push(context.host);
  if (context.gpuIndex !== undefined) parts.push(`GPU ${context.gpuIndex}`);
  if (context.pciBusId) parts.push(`(${context.pciBusId})`);
  if (context.command) parts.push(context.command);
  return parts.length > 0 ? `${parts.join(' ')}: ` : '';
}

export function isGpuError(err: unknown, kind?: GpuErrorKind): err is GpuError {
  return err instanceof GpuError && (kind === undefined || err.kind === kind);
}
