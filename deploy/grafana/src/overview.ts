/** The emostream overview dashboard: every camera at once (throughput, drops, latency, lag, people, emotions, model). */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { baseDashboard, cameraVariable, emotionShares, ffmpegRestartAnnotation, inputFps, modelReloadAnnotation, series, single } from './panels.js';

const CAM = 'camera=~"$camera"';
const RATE = '$__rate_interval';
const TO_CAMERA = { title: 'Camera ${__field.labels.camera}', url: '/d/emostream-camera/emostream-camera?var-camera=${__field.labels.camera}&${__url_time_range}&${datasource:queryparam}' };

/** Builds the overview dashboard (uid `emostream-overview`). */
export function overviewDashboard(): Dashboard {
  return baseDashboard('emostream: overview', 'emostream-overview',
    'All cameras of an emostream deployment: frames in and out, drops and frame-to-event latency per camera, Kafka lag, people and their emotions, and the model in use; model reloads and ffmpeg restarts are marked on every chart.')
    .withVariable(cameraVariable(true))
    .annotation(modelReloadAnnotation())
    .annotation(ffmpegRestartAnnotation(CAM))
    .withRow(new RowBuilder('Now'))
    .withPanel(single({
      title: 'Cameras streaming', unit: 'short', decimals: 0,
      description: 'Cameras that decoded at least one frame in the last rate interval.',
      query: { expr: `count(sum by (camera) (rate(emostream_frames_decoded_total{${CAM}}[${RATE}])) > 0)` },
    }))
    .withPanel(single({
      title: 'Input fps', unit: 'fps',
      description: 'Frames decoded per second, all selected cameras (after the fps cap).',
      query: { expr: `sum(rate(emostream_frames_decoded_total{${CAM}}[${RATE}]))` },
    }))
    .withPanel(single({
      title: 'Processed fps', unit: 'fps',
      description: 'Frames per second that went through detection, classification and aggregation.',
      query: { expr: `sum(rate(emostream_frames_processed_total{${CAM}}[${RATE}]))` },
    }))
    .withPanel(single({
      title: 'Persons in view', unit: 'short', decimals: 0,
      description: 'Person tracks currently open, all selected cameras.',
      query: { expr: `sum(emostream_persons_active{${CAM}})` },
    }))
    .withPanel(single({
      title: 'Latency p95', unit: 's', redAbove: 2,
      description: 'p95 time from frame capture to its emotions leaving the aggregator (SLO: 2 s).',
      query: { expr: `histogram_quantile(0.95, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))` },
    }))
    .withPanel(single({
      title: 'Model', unit: 'none', showName: true,
      description: 'The emotion model version and TensorFlow.js backend of every classifier (emostream_model_info).',
      query: { expr: 'max by (version, provider) (emostream_model_info)', legend: '{{version}} on {{provider}}' },
    }))
    .withRow(new RowBuilder('Frames'))
    .withPanel(series({
      title: 'Input fps by camera', unit: 'fps', min: 0, width: 6, link: TO_CAMERA,
      description: 'Frames per second each camera delivered over the last 5 s (emostream_input_fps, after the fps cap); 0 while a camera sends nothing. Click a series for the camera dashboard.',
      queries: [{ expr: inputFps(CAM, 'camera'), legend: '{{camera}}' }],
    }))
    .withPanel(series({
      title: 'Processed fps by camera', unit: 'fps', min: 0, width: 6, link: TO_CAMERA,
      description: 'Frames per second through the whole pipeline, per camera. Below the input fps means drops or a backlog.',
      queries: [{ expr: `sum by (camera) (rate(emostream_frames_processed_total{${CAM}}[${RATE}]))`, legend: '{{camera}}' }],
    }))
    .withPanel(series({
      title: 'Dropped by camera', unit: 'percentunit', min: 0, width: 6, link: TO_CAMERA,
      description: 'Share of each camera\'s decoded frames that were dropped (any reason); 0 for a camera without drops.',
      queries: [{
        expr: `(sum by (camera) (rate(emostream_frames_dropped_total{${CAM}}[${RATE}])) or sum by (camera) (rate(emostream_frames_decoded_total{${CAM}}[${RATE}])) * 0)`
          + ` / sum by (camera) (rate(emostream_frames_decoded_total{${CAM}}[${RATE}]))`,
        legend: '{{camera}}',
      }],
    }))
    .withPanel(series({
      title: 'Drops by reason', unit: 'fps', min: 0, width: 6, stack: 'normal',
      description: 'Frames dropped per second: queue_full (the pipeline is behind), detect_error, duplicate (redelivered after a restart).',
      queries: [{ expr: `sum by (reason) (rate(emostream_frames_dropped_total{${CAM}}[${RATE}]))`, legend: '{{reason}}' }],
    }))
    .withRow(new RowBuilder('Latency and backlog'))
    .withPanel(series({
      title: 'Frame-to-event latency', unit: 's', min: 0, width: 6,
      description: 'Time from frame capture to its emotions leaving the aggregator: p50 and p95 over all selected cameras.',
      queries: [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.95, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: 'p95' },
      ],
    }))
    .withPanel(series({
      title: 'Latency p95 by camera', unit: 's', min: 0, width: 6, link: TO_CAMERA,
      description: 'p95 frame-to-event latency per camera (SLO: 2 s): which camera is slow.',
      queries: [{ expr: `histogram_quantile(0.95, sum by (camera, le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: '{{camera}}' }],
    }))
    .withPanel(series({
      title: 'Kafka consumer lag', unit: 'short', min: 0, width: 6,
      description: 'Messages each consumer group still has to read, per topic (distributed mode). KEDA scales the detector and classifier on it.',
      queries: [{ expr: 'sum by (group, topic) (emostream_consumer_lag_messages)', legend: '{{group}} ← {{topic}}' }],
    }))
    .withPanel(series({
      title: 'Dead letters', unit: 'short', min: 0, width: 6,
      description: 'Messages sent to a *.dlq topic per second, by stage and reason (distributed mode).',
      queries: [{ expr: `sum by (stage, reason) (rate(emostream_dead_letters_total[${RATE}]))`, legend: '{{stage}}: {{reason}}' }],
    }))
    .withRow(new RowBuilder('People and emotions'))
    .withPanel(series({
      title: 'Persons in view by camera', unit: 'short', min: 0, width: 8, link: TO_CAMERA,
      description: 'Person tracks currently open, per camera.',
      queries: [{ expr: `sum by (camera) (emostream_persons_active{${CAM}})`, legend: '{{camera}}' }],
    }))
    .withPanel(series({
      title: 'Emotion mix', unit: 'percentunit', min: 0, max: 1, width: 8, stack: 'normal',
      description: 'Share of classified faces by their most likely emotion, all selected cameras (each emotion\'s rate over the total, computed in PromQL: the stack sums to 100%).',
      queries: [{ expr: emotionShares(CAM), legend: '{{emotion}}' }],
    }))
    .withPanel(series({
      title: 'Events by type', unit: 'short', min: 0, width: 8, stack: 'normal',
      description: 'Emotion events emitted per second: person.appeared, emotion.changed, person.left.',
      queries: [{ expr: `sum by (type) (rate(emostream_events_total{${CAM}}[${RATE}]))`, legend: '{{type}}' }],
    }))
    .withRow(new RowBuilder('Classifier and processes'))
    .withPanel(series({
      title: 'Inference time per batch', unit: 's', min: 0, width: 6,
      description: 'p95 time of one classifier batch, by TensorFlow.js backend.',
      queries: [{ expr: `histogram_quantile(0.95, sum by (backend, le) (rate(emostream_inference_seconds_bucket[${RATE}])))`, legend: 'p95 {{backend}}' }],
    }))
    .withPanel(series({
      title: 'Classifier batch size', unit: 'short', min: 0, width: 6,
      description: 'Mean faces per classifier batch (batching across frames and cameras).',
      queries: [{ expr: `sum(rate(emostream_classifier_batch_size_sum[${RATE}])) / sum(rate(emostream_classifier_batch_size_count[${RATE}]))`, legend: 'mean' }],
    }))
    .withPanel(series({
      title: 'Resident memory', unit: 'bytes', min: 0, width: 6,
      description: 'Resident set size of every emostream process.',
      queries: [{ expr: 'sum by (service, instance) (emostream_process_resident_memory_bytes)', legend: '{{service}} {{instance}}' }],
    }))
    .withPanel(series({
      title: 'Event-loop lag p99', unit: 's', min: 0, width: 6,
      description: 'Node.js event-loop delay (p99) of every emostream process: high values mean a blocked process.',
      queries: [{ expr: 'max by (service, instance) (emostream_nodejs_eventloop_lag_p99_seconds)', legend: '{{service}} {{instance}}' }],
    }))
    .build();
}
