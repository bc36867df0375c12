/**
 * @module Zod schemas of the four config files (AISBF formats plus our additions; docs/config.md).
 * Every object is strict: an unknown key is an error (a typo must not fall back to a default silently).
 * Every config type is z.infer of these.
 */
import { z } from 'zod';
import { authConfigSchema } from './auth-config.js';
import { queueConfigSchema } from './queue-config.js';
import { batchesConfigSchema } from './batches-config.js';
import { cacheConfigSchema } from './cache-config.js';
import { redisConfigSchema } from './storage-config.js';
import { historyConfigSchema, telemetryConfigSchema } from './accounting-config.js';
import { modelAliasesSchema } from './aliases-config.js';
import { ocrConfigSchema } from './ocr-config.js';
import { configVersionField } from './config-version.js';

export const PROVIDER_TYPES = ['openai', 'anthropic', 'google', 'ollama', 'huggingface'] as const;
// documents: takes PDF/text `file` parts natively (else, with vision, pages are rendered to images);
// ocr: a dedicated OCR model, preferred by POST /api/ocr (docs/ocr.md).
export const CAPABILITIES = ['chat', 'vision', 'tools', 'embeddings', 'image', 'speech', 'transcription', 'video', 'documents', 'ocr'] as const;
export const CONDENSE_METHODS = ['hierarchical', 'conversational', 'semantic', 'algorithmic', 'algoritmic'] as const;

const nonNegInt = z.number().int().nonnegative();
const optionalNum = z.number().nonnegative().nullish();

const condenseMethod = z.union([z.enum(CONDENSE_METHODS), z.array(z.enum(CONDENSE_METHODS))]);

/** Per-model settings shared by providers.json model entries and rotation model entries. */
const modelSettings = {
  rate_limit: optionalNum,
  max_request_tokens: z.number().int().positive().nullish(),
  rate_limit_TPM: z.number().int().positive().nullish(),
  rate_limit_TPH: z.number().int().positive().nullish(),
  rate_limit_TPD: z.number().int().positive().nullish(),
  context_size: z.number().int().positive().nullish(),
  condense_context: z.number().min(0).max(100).nullish(),
  condense_method: condenseMethod.nullish(),
  capabilities: z.array(z.enum(CAPABILITIES)).optional(),
  timeout_seconds: z.number().positive().nullish(),
  /** Admission: requests to this model running at once (aisbf.json queue.max_concurrent by default). */
  max_concurrent: z.number().int().positive().optional(),
  /** Admission: requests waiting for a slot on this model; over it, 429 queue_full. */
  max_waiting: z.number().int().nonnegative().optional(),
};

/** USD per million tokens, overriding the price catalogue (CONTRACTS §7.3 item 27); zeros for local models. */
export const modelPriceSchema = z.strictObject({
  input_per_mtok: z.number().nonnegative(),
  output_per_mtok: z.number().nonnegative(),
  cached_input_per_mtok: z.number().nonnegative().optional(),
  cache_write_per_mtok: z.number().nonnegative().optional(),
  reasoning_per_mtok: z.number().nonnegative().optional(),
});
export type ModelPriceConfig = z.infer<typeof modelPriceSchema>;

export const providerModelSchema = z.strictObject({
  name: z.string().min(1),
  ...modelSettings,
  description: z.string().optional(),
  /** USD per million tokens for this model, instead of the price catalogue's. */
  price: modelPriceSchema.optional(),
  /** Anthropic: the max_tokens sent when the client names none. */
  max_tokens: z.number().int().positive().optional(),
  /** Anthropic: the model supports structured outputs (strict tools, json_schema). */
  structured_outputs: z.boolean().optional(),
  /** Ollama: the model's `options` (e.g. `{"num_ctx": 16384}`). */
  options: z.record(z.string(), z.unknown()).optional(),
});
export type ProviderModelConfig = z.infer<typeof providerModelSchema>;

export const providerSchema = z.strictObject({
  id: z.string().optional(),
  name: z.string().optional(),
  endpoint: z.string().url().optional(),
  type: z.enum(PROVIDER_TYPES, {
    error: (iss) => `unsupported provider type ${JSON.stringify(iss.input)}; use one of ${PROVIDER_TYPES.join(', ')}`,
  }),
  api_key_required: z.boolean().default(true),
  api_key: z.string().optional(),
  /**
   * With proxy auth off and no key configured, send the client's bearer token upstream as this
   * provider's key. Off by default: an SDK's placeholder key must not reach a provider.
   */
  forward_client_key: z.boolean().default(false),
  rate_limit: optionalNum,
  timeout_seconds: z.number().positive().nullish(),
  enabled: z.boolean().default(true),
  default_error_cooldown: z.number().nonnegative().optional(),
  /** Admission: requests to this provider (all its models together) running at once. */
  max_concurrent: z.number().int().positive().optional(),
  /** Admission: requests waiting for a slot on this provider. */
  max_waiting: z.number().int().nonnegative().optional(),
  /** OpenAI-type only: the upstream speaks the Responses API; /v1/responses bodies pass through (issue 17). */
  responses_api: z.boolean().optional(),
  models: z.array(providerModelSchema).default([]),
});
export type ProviderConfig = z.infer<typeof providerSchema>;

export const providersFileSchema = z.strictObject({
  version: configVersionField,
  condensation: z
    .strictObject({
      provider_id: z.string().nullish(),
      model: z.string().nullish(),
      rotation_id: z.string().nullish(),
      enabled: z.boolean().default(true),
    })
    .optional(),
  providers: z.record(z.string(), providerSchema),
});
export type ProvidersFile = z.infer<typeof providersFileSchema>;

export const rotationModelSchema = z.strictObject({
  name: z.string().min(1),
  weight: z.number({ error: 'weight is required and must be a number' }).positive({ error: 'weight must be greater than 0' }),
  ...modelSettings,
});
export type RotationModelConfig = z.infer<typeof rotationModelSchema>;

export const rotationSchema = z.strictObject({
  model_name: z.string().optional(),
  notifyerrors: z.boolean().optional(),
  strategy: z.enum(['weighted', 'priority']).default('weighted'),
  max_attempts: z.number().int().positive().optional(),
  failure_threshold: z.number().int().positive().optional(),
  cooldown_seconds: z.number().nonnegative().optional(),
  default_error_cooldown: z.number().nonnegative().optional(),
  providers: z
    .array(
      z.strictObject({
        provider_id: z.string().min(1),
        api_key: z.string().optional(),
        models: z.array(rotationModelSchema).min(1, { error: 'a rotation provider needs at least one model' }),
      }),
    )
    .min(1, { error: 'a rotation needs at least one provider' }),
});
export type RotationConfig = z.infer<typeof rotationSchema>;

export const rotationsFileSchema = z.strictObject({
  version: configVersionField,
  notifyerrors: z.boolean().default(false),
  // No defaults here: a rotation's own setting, then the provider's default_error_cooldown, then
  // these, then 3 / 300 s (routing/health.ts resolveCooldownPolicy).
  failure_threshold: z.number().int().positive().optional(),
  cooldown_seconds: z.number().nonnegative().optional(),
  default_error_cooldown: z.number().nonnegative().optional(),
  rotations: z.record(z.string(), rotationSchema).default({}),
});
export type RotationsFile = z.infer<typeof rotationsFileSchema>;

export const autoselectSchema = z.strictObject({
  model_name: z.string().optional(),
  description: z.string().optional(),
  selection_model: z.string().min(1).default('general'),
  fallback: z.string().min(1, { error: 'fallback is required' }),
  selector: z.enum(['chat', 'embeddings']).default('chat'),
  embedding_model: z.string().optional(),
  timeout_seconds: z.number().positive().optional(),
  available_models: z
    .array(z.strictObject({ model_id: z.string().min(1), description: z.string().default('') }))
    .min(1, { error: 'available_models needs at least one entry' }),
}).refine((a) => a.selector !== 'embeddings' || !!a.embedding_model, {
  error: '"selector": "embeddings" needs "embedding_model" (a provider/model whose provider supports embeddings)',
  path: ['embedding_model'],
});
export type AutoselectConfig = z.infer<typeof autoselectSchema>;

// Every key but `version` names an autoselect model; the version is checked, then dropped from the result.
export const autoselectFileSchema = z
  .object({ version: configVersionField })
  .catchall(autoselectSchema)
  .transform(({ version: _version, ...selectors }) => selectors as Record<string, AutoselectConfig>);
export type AutoselectFile = z.infer<typeof autoselectFileSchema>;

export const aisbfFileSchema = z.strictObject({
  version: configVersionField,
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(17765),
      workers: z.union([z.number().int().positive(), z.literal('auto')]).default(1),
      body_limit_mb: z.number().positive().default(20),
      upload_limit_mb: z.number().positive().default(25),
      shutdown_grace_seconds: z.number().nonnegative().default(10),
      /** A stream whose client reads nothing this long (while aisbf waits to write) ends; 0: never. */
      client_stall_seconds: z.number().nonnegative().default(120),
      cors: z.boolean().default(true),
    })
    .prefault({}),
  auth: authConfigSchema,
  queue: queueConfigSchema,
  batches: batchesConfigSchema,
  cache: cacheConfigSchema,
  history: historyConfigSchema,
  telemetry: telemetryConfigSchema,
  model_aliases: modelAliasesSchema,
  ocr: ocrConfigSchema,
  storage: z
    .strictObject({
      type: z.enum(['sqlite', 'redis']).default('sqlite'),
      /** Relative paths are relative to the config dir. */
      path: z.string().default('aisbf.db'),
      redis_url: z.string().optional(),
      /** Several instances share live state through this Redis (config/storage-config.ts). */
      redis: redisConfigSchema,
      data_dir: z.string().default('data'),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** Relative to the config dir; used by `aisbf daemon`. */
      dir: z.string().default('logs'),
      max_size_mb: z.number().positive().default(50),
      max_files: z.number().int().positive().default(5),
    })
    .prefault({}),
  defaults: z
    .strictObject({
      timeout_seconds: z.number().positive().default(120),
    })
    .prefault({}),
  images: z
    .strictObject({
      /** Let image_url fetches reach loopback/private addresses (off: the gateway is no way into your LAN). */
      allow_private_addresses: z.boolean().default(false),
      max_mb: z.number().positive().default(20),
      fetch_timeout_seconds: z.number().positive().default(10),
    })
    .prefault({}),
  /** The glasses app (Frame-Backend compat, CONTRACTS.md §6.12–6.15; docs/glasses.md). */
  glasses: z
    .strictObject({
      /** Targets tried in order: provider/model or rotation id. Empty: /process answers 400. */
      cascade: z.array(z.string().min(1)).default([]),
      /** Picks or merges the answers when more than one target answered. */
      judge: z.string().optional(),
      rate_limit_per_hour: z.number().int().nonnegative().default(3600),
      default_prompt: z.string().min(1).default('Describe this image in detail'),
      max_image_mb: z.number().positive().default(10),
      retention_days: z.number().positive().default(3),
      max_profile_bytes: z.number().int().positive().default(1073741824),
      /** Bounds each upstream call of the cascade. */
      timeout_seconds: z.number().positive().default(30),
      auth_rate_limit_per_minute: z.number().int().nonnegative().default(5),
      profile_rate_limit_per_minute: z.number().int().nonnegative().default(10),
      /** AES-256-GCM key for stored provider keys (64 hex chars, base64 of 32 bytes, or a passphrase). */
      encryption_key: z.string().optional(),
      /** Take the client IP from the last X-Forwarded-For entry (behind a reverse proxy). */
      trust_proxy: z.boolean().default(false),
    })
    .prefault({}),
  /** VisionAI compat (`POST /analyze`, CONTRACTS.md §6.18): a vision-capable provider/model or rotation. */
  visionai: z
    .strictObject({
      target: z.string().optional(),
      timeout_seconds: z.number().positive().default(60),
    })
    .prefault({}),
  /**
   * The platform backend compat routes (`/api/image`, `/api/llm`, … CONTRACTS.md §4, §6.17;
   * docs/platform-compat.md): each route's default target, a provider/model or rotation id.
   */
  platform: z
    .strictObject({
      image: z.string().min(1).optional(),
      /** Defaults to `image`. */
      edit_image: z.string().min(1).optional(),
      llm: z.string().min(1).optional(),
      tts: z.string().min(1).optional(),
      stt: z.string().min(1).optional(),
      embedding: z.string().min(1).optional(),
      video: z.string().min(1).optional(),
      /** Defaults to `video`. */
      image_to_video: z.string().min(1).optional(),
      /** How long a video route waits for a queued upstream job to finish. */
      video_timeout_seconds: z.number().positive().default(600),
    })
    .prefault({}),
  capabilities: z
    .strictObject({
      /** How often unfinished video jobs are polled upstream (docs/capabilities.md). */
      video_poll_seconds: z.number().positive().default(10),
    })
    .prefault({}),
});
export type AisbfFile = z.infer<typeof aisbfFileSchema>;

export const CONFIG_FILES = {
  'aisbf.json': aisbfFileSchema,
  'providers.json': providersFileSchema,
  'rotations.json': rotationsFileSchema,
  'autoselect.json': autoselectFileSchema,
} as const;
export type ConfigFileName = keyof typeof CONFIG_FILES;
