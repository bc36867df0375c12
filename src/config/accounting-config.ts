/** @module aisbf.json `history` and `telemetry`: usage retention and OpenTelemetry (issue 15 owns this file). */
import { z } from 'zod';

export const historyConfigSchema = z.strictObject({}).optional();
export const telemetryConfigSchema = z.strictObject({}).optional();
