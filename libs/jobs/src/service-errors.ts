import { SwitchboardError } from '@switchboard/protocol';
import { JOB_ID_PATTERN } from './keys.js';

// The errors JobsService answers with (codes in the registry, libs/protocol errors.ts; each message says what to do).

export function checkId(jobId: unknown): string {
  if (typeof jobId !== 'string' || !JOB_ID_PATTERN.test(jobId)) {
    throw new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id ${JSON.stringify(jobId)}: use the jobId string that enqueue returned.`);
  }
  return jobId;
}

/**
 * `refused`: Redis answered with an error (a reply error: READONLY or LOADING during a failover,
 * OOM, WRONGTYPE...), which is not an outage and must not read as one: the message says so.
 */
export function unavailable(what: string, reason: string, refused = false): SwitchboardError {
  if (refused) return new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Redis refused the ${what} (${reason}). During a failover this passes within seconds: try again; if it persists, the server log and the Redis deployment have the cause.`);
  return new SwitchboardError('SB_BACKPLANE_UNAVAILABLE', `Redis is unreachable (${what}: ${reason}); jobs cannot be enqueued, read or cancelled until it is back. Try again in a few seconds.`);
}

export function conflict(message: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_STATE_CONFLICT', message);
}

export function notFound(jobId: string): SwitchboardError {
  return new SwitchboardError('SB_JOB_NOT_FOUND', `Unknown job id '${jobId}': it was never enqueued or its record expired.`);
}

export function forbidden(jobId: string, adminRole: string, anonymous: boolean): SwitchboardError {
  return new SwitchboardError(
    'SB_JOB_FORBIDDEN',
    `Job '${jobId}' belongs to another user: only the user who enqueued it, or one with the '${adminRole}' role, may watch, get or cancel it${anonymous ? ' (this request is anonymous: send an access token)' : ''}.`,
  );
}
