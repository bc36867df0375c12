/**
 * @module An OpenAI chat request → the `@google/genai` `generateContent` parameters: messages (via
 * convert-to-gemini-messages), tools and tool_choice, sampling, stop, seed, JSON mode and thinking.
 */
import { FunctionCallingConfigMode } from '@google/genai';
import type { ChatRequest, ToolChoice, ToolDefinition } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { SchemaTooLargeError, convertToolParameters } from './convert-json-schema-to-gemini.js';
import { convertToGeminiMessages, type ConvertOptions } from './convert-to-gemini-messages.js';
import type { FunctionDeclaration, GenerateContentConfig, GenerateContentParameters, ToolConfig } from './gemini-api.js';

/** Gemini function names: letters, digits, underscores, dots, colons, dashes; at most 128 (API docs). */
const FUNCTION_NAME_RE = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;

/**
 * OpenAI `reasoning_effort` → a thinking budget (the mapping Gemini's own OpenAI-compatible endpoint
 * documents); `none` turns thinking off.
 */
const THINKING_BUDGETS: Record<string, number> = { none: 0, minimal: 512, low: 1024, medium: 8192, high: 24576 };

/** Model families that think, whose thought summaries we ask for so they reach `reasoning_content`. */
const THINKING_MODEL_RE = /^(?:models\/)?gemini-(?:2\.5|[3-9])|thinking/i;
/** …except the image, speech and live variants of those families, which reject thinkingConfig. */
const NON_THINKING_RE = /image|tts|audio|live|embedding/i;

function badRequest(message: string, param: string, provider: string, model: string): ProviderError {
  return new ProviderError(message, { kind: 'bad_request', status: 400, provider, model, param });
}

export function convertTools(tools: ToolDefinition[] | undefined, provider: string, model: string): FunctionDeclaration[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((t, i) => {
    if (t.type !== 'function' || !t.function?.name) throw badRequest(`tools[${i}] must be a function tool with a name`, `tools[${i}]`, provider, model);
    if (!FUNCTION_NAME_RE.test(t.function.name)) {
      throw badRequest(`tools[${i}].function.name '${t.function.name}' is not a valid Gemini function name`, `tools[${i}].function.name`, provider, model);
    }
    const decl: FunctionDeclaration = { name: t.function.name };
    if (t.function.description) decl.description = t.function.description;
    let parameters: ReturnType<typeof convertToolParameters>;
    try {
      parameters = convertToolParameters(t.function.parameters);
    } catch (err) {
      if (err instanceof SchemaTooLargeError) throw badRequest(`tools[${i}].function.parameters: ${err.message}`, `tools[${i}].function.parameters`, provider, model);
      throw err;
    }
    if (parameters) decl.parameters = parameters;
    return decl;
  });
}

/** auto → AUTO, none → NONE, required → ANY, a named function → ANY restricted to that name. */
export function convertToolChoice(choice: ToolChoice | undefined): ToolConfig | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'auto') return { functionCallingConfig: { mode: FunctionCallingConfigMode.AUTO } };
  if (choice === 'none') return { functionCallingConfig: { mode: FunctionCallingConfigMode.NONE } };
  if (choice === 'required') return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY } };
  if (typeof choice === 'object' && choice.function?.name) {
    return { functionCallingConfig: { mode: FunctionCallingConfigMode.ANY, allowedFunctionNames: [choice.function.name] } };
  }
  return undefined;
}

function thinkingConfig(req: ChatRequest, model: string): GenerateContentConfig['thinkingConfig'] {
  // Gemini's OpenAI-compatible extension: extra_body {google: {thinking_config: {...}}}.
  const google = req.google as { thinking_config?: Record<string, unknown>; thinkingConfig?: Record<string, unknown> } | undefined;
  const explicit = google?.thinking_config ?? google?.thinkingConfig;
  if (explicit && typeof explicit === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(explicit)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v;
    return out as GenerateContentConfig['thinkingConfig'];
  }
  const effort = typeof req.reasoning_effort === 'string' ? req.reasoning_effort : undefined;
  if (effort && effort in THINKING_BUDGETS) {
    const budget = THINKING_BUDGETS[effort]!;
    return budget === 0 ? { thinkingBudget: 0 } : { thinkingBudget: budget, includeThoughts: true };
  }
  return THINKING_MODEL_RE.test(model) && !NON_THINKING_RE.test(model) ? { includeThoughts: true } : undefined;
}

export async function convertToGeminiRequest(req: ChatRequest, opts: ConvertOptions): Promise<GenerateContentParameters> {
  const { provider, model } = opts;
  const config: GenerateContentConfig = {};
  const functionDeclarations = convertTools(req.tools, provider, model);
  if (functionDeclarations) {
    config.tools = [{ functionDeclarations }];
    const toolConfig = convertToolChoice(req.tool_choice);
    if (toolConfig) config.toolConfig = toolConfig;
  }

  const maxTokens = req.max_completion_tokens ?? req.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (req.temperature != null) config.temperature = req.temperature;
  if (req.top_p != null) config.topP = req.top_p;
  if (req.seed != null) config.seed = req.seed;
  if (typeof req.presence_penalty === 'number') config.presencePenalty = req.presence_penalty;
  if (typeof req.frequency_penalty === 'number') config.frequencyPenalty = req.frequency_penalty;
  if (req.stop != null) {
    const stop = (Array.isArray(req.stop) ? req.stop : [req.stop]).filter((s) => s !== '');
    if (stop.length) config.stopSequences = stop;
  }

  const format = req.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  else if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    // responseJsonSchema takes JSON Schema as written (the SDK passes it through unchanged), unlike
    // responseSchema's OpenAPI subset.
    if (format.json_schema?.schema) config.responseJsonSchema = format.json_schema.schema;
  }

  const thinking = thinkingConfig(req, model);
  if (thinking) config.thinkingConfig = thinking;

  const prompt = await convertToGeminiMessages(req.messages, opts);
  if (prompt.systemInstruction) config.systemInstruction = prompt.systemInstruction;
  return { model, contents: prompt.contents, config };
}
