/** @module aisbf.json `ocr`: the OCR route (issue 19 owns this file). */
import { z } from 'zod';

export const ocrConfigSchema = z.strictObject({}).optional();
