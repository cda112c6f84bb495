/** Schedules kept in a camera's media time (`FrameRef.mediaTimeMs`) rather than in counts of frames. */

/**
 * Whether a frame at `nowMs` of media time is within `periodMs` of something done at `sinceMs`
 * of the same camera's media time: `0 <= nowMs - sinceMs < periodMs`. Media time that went back
 * (a file that loops, a restarted stream) is never within: whatever was due is done afresh.
 */
export function withinMediaTime(nowMs: number, sinceMs: number, periodMs: number): boolean {
  return nowMs >= sinceMs && nowMs - sinceMs < periodMs;
}
