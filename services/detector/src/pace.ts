/**
 * Whether a live camera's frames reach the detector stage at the camera's own pace: the media
 * time since the camera's last frame is at most 1.5 times the shortest spacing of its recent
 * frames. A camera whose frames are being skipped (a newer frame replaced one waiting: the
 * machine does not keep up) has gaps of two frames or more. The detector stage splits a live
 * camera's tile searches from its detections only while it keeps up (`tilesApartLive`): the
 * split evens out the frames' times at the cost of one more network call per detection, which a
 * machine that is behind cannot spare (bench/RESULTS.md, Session 26).
 */

/** Recent spacings a camera's own pace is read from. */
const WINDOW = 10;
/** A gap over this many times the camera's shortest recent spacing: a frame was skipped. */
const SKIPPED = 1.5;

interface Pace { lastMs: number; gaps: number[] }

/** Per-camera pace of the frames, in media time. */
export class FramePace {
  private readonly cams = new Map<string, Pace>();

  /**
   * Records a frame of `cameraId` at `mediaTimeMs` (frames of a camera in order) and says whether
   * the camera keeps its pace: true for its first frames, false right after a gap of more than
   * 1.5 times its shortest spacing of the last 10 frames. Media time that goes back starts over.
   */
  frame(cameraId: string, mediaTimeMs: number): boolean {
    const cam = this.cams.get(cameraId);
    if (!cam || mediaTimeMs <= cam.lastMs) {
      this.cams.set(cameraId, { lastMs: mediaTimeMs, gaps: [] });
      return true;
    }
    const gap = mediaTimeMs - cam.lastMs;
    cam.lastMs = mediaTimeMs;
    const shortest = cam.gaps.length ? Math.min(...cam.gaps) : gap;
    cam.gaps.push(gap);
    if (cam.gaps.length > WINDOW) cam.gaps.shift();
    return gap <= SKIPPED * shortest;
  }
}
