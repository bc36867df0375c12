/** @module aisbf.json `cache`: the response cache (issue 18 owns this file). */
import { z } from 'zod';

export const cacheConfigSchema = z.strictObject({}).optional();
