/**
 * The settings of `emostream serve api` (`API_*`): where it listens and how much it keeps. One
 * strict schema, read by the one reader (`settingsFromEnv`); the README table is generated from it.
 */
import { z } from 'zod';
import { settingsFromEnv } from '@emostream/runtime';
import { DEFAULT_LIVE_LIMITS } from './live.js';

/** The env prefix of {@link ApiSettingsSchema}. */
export const API_PREFIX = 'API_';

/** Settings of the live API service. Unknown keys fail. */
export const ApiSettingsSchema = z.strictObject({
  httpPort: z.number().int().min(0).max(65535).default(8080)
    .describe('Port of the live API and page (`0`: a free one, logged at start)'),
  httpHost: z.string().min(1).default('127.0.0.1')
    .describe('Address the live API listens on; `0.0.0.0` to serve other machines (in a container). It serves emotions of identifiable persons: put it behind your own authentication'),
  maxAgeMs: z.number().int().min(1000).max(7 * 24 * 3_600_000).default(DEFAULT_LIVE_LIMITS.maxAgeMs)
    .describe('A person who left is forgotten this long after leaving (wall clock, the event\'s `at`); a present person\'s segments that ended this long before the camera\'s latest event (media time) are dropped, ms'),
  maxPersonsPerCamera: z.number().int().min(1).max(100_000).default(DEFAULT_LIVE_LIMITS.maxPersonsPerCamera)
    .describe('Persons kept per camera; beyond it the ones who left longest ago are forgotten first'),
  eventBuffer: z.number().int().min(1).max(1_000_000).default(DEFAULT_LIVE_LIMITS.eventBuffer)
    .describe('Recent events kept in memory so that an event stream client resumes with `Last-Event-ID` (older ids get an `event: reset`)'),
  maxStreams: z.number().int().min(1).max(10_000).default(100)
    .describe('Event stream clients (`GET /api/events`) at once; one more gets 503'),
});

/** Parsed live API settings. */
export type ApiSettings = z.output<typeof ApiSettingsSchema>;

/** The live API settings from `API_*` variables, `overrides` on top. */
export function apiSettingsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<z.input<typeof ApiSettingsSchema>> = {}): ApiSettings {
  return settingsFromEnv(ApiSettingsSchema, API_PREFIX, env, { overrides });
}
