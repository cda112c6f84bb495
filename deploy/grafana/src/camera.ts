/** The emostream per-camera dashboard: one camera (template variable `camera`) in detail. */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { baseDashboard, cameraVariable, emotionShares, ffmpegRestartAnnotation, inputFps, modelReloadAnnotation, series, single } from './panels.js';

const CAM = 'camera="$camera"';
const RATE = '$__rate_interval';

/** Builds the per-camera drill-down dashboard (uid `emostream-camera`). */
export function cameraDashboard(): Dashboard {
  return baseDashboard('emostream: camera', 'emostream-camera',
    'One camera in detail: stream health (fps, drops, ffmpeg restarts and stalls), faces, detection time, latency, people and emotions; model reloads and ffmpeg restarts are marked on every chart.')
    .withVariable(cameraVariable(false))
    .annotation(modelReloadAnnotation())
    .annotation(ffmpegRestartAnnotation(CAM))
    .withRow(new RowBuilder('Now'))
    .withPanel(single({
      title: 'Input fps', unit: 'fps',
      description: 'Frames decoded per second from this camera.',
      query: { expr: `sum(rate(emostream_frames_decoded_total{${CAM}}[${RATE}]))` },
    }))
    .withPanel(single({
      title: 'Processed fps', unit: 'fps',
      description: 'Frames per second of this camera through the whole pipeline.',
      query: { expr: `sum(rate(emostream_frames_processed_total{${CAM}}[${RATE}]))` },
    }))
    .withPanel(single({
      title: 'Dropped', unit: 'percentunit', redAbove: 0.1,
      description: 'Share of this camera\'s decoded frames that were dropped (any reason). Alert above 10%.',
      query: { expr: `(sum(rate(emostream_frames_dropped_total{${CAM}}[${RATE}])) or vector(0)) / sum(rate(emostream_frames_decoded_total{${CAM}}[${RATE}]))` },
    }))
    .withPanel(single({
      title: 'Persons in view', unit: 'short', decimals: 0,
      description: 'Person tracks currently open on this camera.',
      query: { expr: `sum(emostream_persons_active{${CAM}})` },
    }))
    .withPanel(single({
      title: 'Latency p95', unit: 's', redAbove: 2,
      description: 'p95 frame-to-event latency of this camera (SLO: 2 s).',
      query: { expr: `histogram_quantile(0.95, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))` },
    }))
    .withPanel(single({
      title: 'Reconnects', unit: 'short', decimals: 0, redAbove: 3,
      description: 'ffmpeg restarts of this camera in the selected time range.',
      query: { expr: `sum(increase(emostream_ffmpeg_restarts_total{${CAM}}[$__range]))` },
    }))
    .withRow(new RowBuilder('Stream'))
    .withPanel(series({
      title: 'Input and processed fps', unit: 'fps', min: 0, width: 8,
      description: 'What the camera delivered (emostream_input_fps over the last 5 s, after the fps cap; 0 while it sends nothing), frames decoded and frames through the whole pipeline, per second.',
      queries: [
        { expr: inputFps(CAM, 'camera'), legend: 'input (last 5 s)' },
        { expr: `sum(rate(emostream_frames_decoded_total{${CAM}}[${RATE}]))`, legend: 'decoded' },
        { expr: `sum(rate(emostream_frames_processed_total{${CAM}}[${RATE}]))`, legend: 'processed' },
      ],
    }))
    .withPanel(series({
      title: 'Drops by reason', unit: 'fps', min: 0, width: 8, stack: 'normal',
      description: 'Frames of this camera dropped per second, by reason.',
      queries: [{ expr: `sum by (reason) (rate(emostream_frames_dropped_total{${CAM}}[${RATE}]))`, legend: '{{reason}}' }],
    }))
    .withPanel(series({
      title: 'ffmpeg restarts and stalls', unit: 'short', min: 0, width: 8,
      description: 'Restarts of this camera\'s ffmpeg by reason (exit: stream lost, stall: no frame within the stall timeout, spawn) and stalls detected.',
      queries: [
        { expr: `sum by (reason) (increase(emostream_ffmpeg_restarts_total{${CAM}}[${RATE}]))`, legend: 'restart: {{reason}}' },
        { expr: `sum(increase(emostream_stream_stalls_total{${CAM}}[${RATE}]))`, legend: 'stalls' },
      ],
    }))
    .withRow(new RowBuilder('Faces and latency'))
    .withPanel(series({
      title: 'Faces', unit: 'short', min: 0, width: 8,
      description: 'Faces detected and cropped per second, and detections skipped by reason (too_small, low_score, classify_error).',
      queries: [
        { expr: `sum(rate(emostream_faces_detected_total{${CAM}}[${RATE}]))`, legend: 'detected' },
        { expr: `sum by (reason) (rate(emostream_faces_skipped_total{${CAM}}[${RATE}]))`, legend: 'skipped: {{reason}}' },
      ],
    }))
    .withPanel(series({
      title: 'Frame-to-event latency', unit: 's', min: 0, width: 8,
      description: 'Time from frame capture to its emotions leaving the aggregator, this camera.',
      queries: [
        { expr: `histogram_quantile(0.5, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: 'p50' },
        { expr: `histogram_quantile(0.95, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: 'p95' },
        { expr: `histogram_quantile(0.99, sum by (le) (rate(emostream_frame_to_event_latency_seconds_bucket{${CAM}}[${RATE}])))`, legend: 'p99' },
      ],
    }))
    .withPanel(series({
      title: 'Detection time per frame', unit: 's', min: 0, width: 8,
      description: 'p50 and p95 face detection time per frame of this camera (BlazeFace, its tiles included, or Haar).',
      queries: [0.5, 0.95].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (detector, le) (rate(emostream_detect_seconds_bucket{${CAM}}[${RATE}])))`,
        legend: `p${q * 100} {{detector}}`,
      })),
    }))
    .withRow(new RowBuilder('People and emotions'))
    .withPanel(series({
      title: 'Persons in view over time', unit: 'short', min: 0, width: 8,
      description: 'Person tracks open on this camera.',
      queries: [{ expr: `sum(emostream_persons_active{${CAM}})`, legend: 'persons' }],
    }))
    .withPanel(series({
      title: 'Emotion mix', unit: 'percentunit', min: 0, max: 1, width: 8, stack: 'normal',
      description: 'Share of this camera\'s classified faces by their most likely emotion (each emotion\'s rate over the total, computed in PromQL: the stack sums to 100%).',
      queries: [{ expr: emotionShares(CAM), legend: '{{emotion}}' }],
    }))
    .withPanel(series({
      title: 'Events by type', unit: 'short', min: 0, width: 8, stack: 'normal',
      description: 'Emotion events of this camera per second, by type.',
      queries: [{ expr: `sum by (type) (rate(emostream_events_total{${CAM}}[${RATE}]))`, legend: '{{type}}' }],
    }))
    .build();
}
