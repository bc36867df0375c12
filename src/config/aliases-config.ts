/** @module aisbf.json `model_aliases`: glob → target for every inbound API (issue 17 owns this file). */
import { z } from 'zod';

export const modelAliasesSchema = z.record(z.string(), z.string()).optional();
