/**
 * The aggregator's state on the compacted `aggregator-state` topic: one record per camera
 * (key = camera id), that camera's part of the aggregator's snapshot: what a restart needs, and
 * no more (see CameraSnapshot in @emostream/aggregator), so a record's size does not grow with
 * the persons who passed. A record is written only when its camera changed, in the transaction
 * of the chunk that changed it.
 */
import type { AggregatorSnapshot, AggregatorStage } from '@emostream/aggregator';
import { HEADER, groupIdFor, pipelineTopics, readCompacted, type OutMessage } from '@emostream/kafka';
import type { ServiceDeps } from './deps.js';

/** One camera's part of a snapshot as the value of the state topic (undefined when it has none). */
export function cameraStateMessage(s: AggregatorSnapshot, cameraId: string): OutMessage | undefined {
  const cam = s.cameras[cameraId];
  if (!cam) return undefined;
  const part: AggregatorSnapshot = { ...s, cameras: { [cameraId]: cam } };
  return { key: cameraId, value: Buffer.from(JSON.stringify(part)), headers: { [HEADER.kind]: 'state', [HEADER.camera]: cameraId, [HEADER.contentType]: 'application/json' } };
}

/** One camera's record read back (throws, naming the camera, when it is not a version 1 snapshot of it). */
export function parseCameraState(cameraId: string, value: Buffer, topic: string): AggregatorSnapshot {
  try {
    const s = JSON.parse(value.toString('utf8')) as AggregatorSnapshot;
    if (s?.snapshotVersion !== 1 || typeof s.cameras?.[cameraId] !== 'object' || s.cameras[cameraId] === null) throw new Error(`not a version 1 snapshot of ${cameraId}`);
    return s;
  } catch (e) {
    // A state we cannot read is not silently dropped: the operator must decide (reset the topic).
    throw new Error(`aggregator state for camera ${cameraId} in ${topic} is unreadable (${(e as Error).message}); delete that key or the topic to start fresh`);
  }
}

/** What the state topic holds: every camera's record as bytes, and them merged into one snapshot (undefined when there is none). */
export async function loadAggregatorRecords(deps: ServiceDeps): Promise<{ snapshot?: AggregatorSnapshot; records: Map<string, Buffer> }> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const values = await readCompacted(deps.kafka, t.aggregatorState, { groupPrefix: deps.groupId ?? groupIdFor(deps.config, 'aggregator'), logger: deps.logger });
  let merged: AggregatorSnapshot | undefined;
  for (const [cameraId, value] of values) {
    const s = parseCameraState(cameraId, value, t.aggregatorState);
    merged ??= { snapshotVersion: 1, cameras: {} };
    merged.cameras[cameraId] = s.cameras[cameraId];
    if (s.modelVersion) merged.modelVersion = s.modelVersion;
    if (s.maxCapturedAtMs !== undefined) merged.maxCapturedAtMs = Math.max(merged.maxCapturedAtMs ?? -Infinity, s.maxCapturedAtMs);
  }
  return { snapshot: merged, records: values };
}

/** All cameras' snapshots from the state topic, merged into one (undefined when there is none). */
export async function loadAggregatorState(deps: ServiceDeps): Promise<AggregatorSnapshot | undefined> {
  return (await loadAggregatorRecords(deps)).snapshot;
}

/**
 * The state records of one aggregator stage, as the chunk transactions go: which record each
 * camera has on the topic (committed), which ones the open transaction writes (pending). No copy
 * of the whole state per chunk: a chunk's checkpoint is the run-wide fields, its records are its
 * changed cameras serialised once, and a failed transaction is undone by reading those cameras
 * back from their last committed records.
 */
export class AggregatorStateRecords {
  private committed = new Map<string, Buffer>();
  private pending = new Map<string, Buffer>();
  /** Records written (each a camera whose state changed) and skipped as unchanged, since the start. */
  readonly stats = { written: 0, unchanged: 0 };

  constructor(private readonly stage: AggregatorStage, private readonly topic: string) {}

  /** After the state was loaded from the topic: the records it holds, as the committed ones. */
  reset(records: Map<string, Buffer>): void {
    this.committed = new Map(records);
    this.pending.clear();
    this.stage.takeChanged();
  }

  /** Before a chunk: the previous chunk's records are committed (a failed one was rolled back); the run-wide fields, to roll back to. */
  checkpoint(): AggregatorSnapshot {
    for (const [id, v] of this.pending) this.committed.set(id, v);
    this.pending.clear();
    return this.stage.snapshot([]);
  }

  /** The chunk's state messages: a record per camera whose state changed and differs from its committed one. */
  messages(): OutMessage[] {
    const out: OutMessage[] = [];
    for (const id of this.stage.takeChanged()) {
      const m = cameraStateMessage(this.stage.snapshot([id]), id);
      if (!m) continue;
      if (this.committed.get(id)?.equals(m.value)) { this.stats.unchanged++; continue; }
      this.pending.set(id, m.value);
      this.stats.written++;
      out.push(m);
    }
    return out;
  }

  /** The chunk failed: its cameras go back to their committed records (a camera with none is removed), the run-wide fields to the checkpoint. */
  rollback(checkpoint: AggregatorSnapshot): void {
    const ids = new Set([...this.pending.keys(), ...this.stage.takeChanged()]);
    this.pending.clear();
    const cameras: AggregatorSnapshot['cameras'] = {};
    for (const id of ids) {
      const v = this.committed.get(id);
      if (v) cameras[id] = parseCameraState(id, v, this.topic).cameras[id];
    }
    this.stage.restoreCameras({ ...checkpoint, cameras }, ids);
  }

  /** Bytes of a camera's latest record (0 when it has none). */
  bytes(cameraId: string): number {
    return (this.pending.get(cameraId) ?? this.committed.get(cameraId))?.length ?? 0;
  }
}
