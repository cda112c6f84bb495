/**
 * The aggregator's state on the compacted `aggregator-state` topic: one record per camera
 * (key = camera id), its part of the aggregator's snapshot.
 */
import type { AggregatorSnapshot } from '@emostream/aggregator';
import { HEADER, groupIdFor, pipelineTopics, readCompacted, type OutMessage } from '@emostream/kafka';
import type { ServiceDeps } from './deps.js';

/** One camera's part of a snapshot as the value of the state topic (undefined when it has none). */
export function cameraStateMessage(s: AggregatorSnapshot, cameraId: string): OutMessage | undefined {
  const cam = s.cameras[cameraId];
  if (!cam) return undefined;
  const part: AggregatorSnapshot = { ...s, cameras: { [cameraId]: cam } };
  return { key: cameraId, value: Buffer.from(JSON.stringify(part)), headers: { [HEADER.kind]: 'state', [HEADER.camera]: cameraId, [HEADER.contentType]: 'application/json' } };
}

/** All cameras' snapshots from the state topic, merged into one (undefined when there is none). */
export async function loadAggregatorState(deps: ServiceDeps): Promise<AggregatorSnapshot | undefined> {
  const t = pipelineTopics(deps.config.topicPrefix);
  const values = await readCompacted(deps.kafka, t.aggregatorState, { groupPrefix: deps.groupId ?? groupIdFor(deps.config, 'aggregator'), logger: deps.logger });
  let merged: AggregatorSnapshot | undefined;
  for (const [cameraId, value] of values) {
    let s: AggregatorSnapshot;
    try {
      s = JSON.parse(value.toString('utf8')) as AggregatorSnapshot;
      if (s.snapshotVersion !== 1 || !s.cameras?.[cameraId]) throw new Error(`not a version 1 snapshot of ${cameraId}`);
    } catch (e) {
      // A state we cannot read is not silently dropped: the operator must decide (reset the topic).
      throw new Error(`aggregator state for camera ${cameraId} in ${t.aggregatorState} is unreadable (${(e as Error).message}); delete that key or the topic to start fresh`);
    }
    merged ??= { snapshotVersion: 1, cameras: {} };
    merged.cameras[cameraId] = s.cameras[cameraId];
    if (s.modelVersion) merged.modelVersion = s.modelVersion;
    if (s.maxCapturedAtMs !== undefined) merged.maxCapturedAtMs = Math.max(merged.maxCapturedAtMs ?? -Infinity, s.maxCapturedAtMs);
  }
  return merged;
}
