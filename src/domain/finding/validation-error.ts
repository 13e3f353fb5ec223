/** A finding or event that cannot be processed as it is: reported and dead-lettered, never retried. */
export class FindingValidationError extends Error {
  override readonly name = 'FindingValidationError';
  constructor(
    readonly eventId: string,
    readonly field: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`event ${eventId}: ${field}: ${reason}`, options);
  }
}
