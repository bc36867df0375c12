/**
 * @module aisbf.json `model_aliases`: glob pattern (`*` any run of characters, `?` one character) →
 * target (a rotation id, an autoselect id or `provider/model`), for every inbound API (issue 17 owns
 * this file). A name that is itself a target is never aliased; exact patterns win over globs, and
 * among globs the first written wins. `aisbf config check` checks every target exists.
 */
import { z } from 'zod';

export const modelAliasesSchema = z.record(z.string().min(1).max(256), z.string().min(1)).optional();
