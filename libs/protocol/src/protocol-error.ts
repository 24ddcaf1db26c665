/** The protocol lib's error family: a payload that does not decode into the message it claims to be. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  constructor(
    message: string,
    /** Dotted path of the offending field (lowerCamelCase JSON name), when one is at fault. */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
