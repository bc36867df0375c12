/** @module aisbf.json `queue`: admission defaults per provider/model (issue 16 owns this file). */
import { z } from 'zod';

export const queueConfigSchema = z.strictObject({}).optional();
