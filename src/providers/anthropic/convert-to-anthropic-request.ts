/**
 * @module An OpenAI chat request → Anthropic Messages create params: the prompt, `max_tokens` (which
 * Anthropic requires), sampling, stop sequences, tools and tool_choice, JSON output and extended
 * thinking.
 */
import type { ChatRequest, ToolChoice } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import {
  ANTHROPIC_DEFAULT_MAX_TOKENS,
  THINKING_BUDGETS,
  THINKING_MIN_BUDGET,
  type AnthropicMessageParams,
  type AnthropicTool,
  type AnthropicToolChoice,
} from './anthropic-api.js';
import { convertToAnthropicMessages } from './convert-to-anthropic-messages.js';

/** Per-model settings an Anthropic model entry in providers.json may carry. */
export interface AnthropicModelSettings {
  /** `max_tokens` sent when the client gives none. */
  max_tokens?: number;
  /** The model supports native structured outputs (`output_config.format`): used for json_schema. */
  structured_outputs?: boolean;
}

interface Where {
  provider: string;
  model: string;
}

export const JSON_OBJECT_INSTRUCTION =
  'Respond with a single valid JSON object and nothing else: no prose before or after it, no Markdown code fences.';

function jsonSchemaInstruction(name: string, schema: unknown, description?: string): string {
  return (
    `Respond with a single valid JSON value named "${name}"${description ? ` (${description})` : ''} that conforms to this JSON Schema, ` +
    `and nothing else: no prose before or after it, no Markdown code fences.\n${JSON.stringify(schema ?? {})}`
  );
}

function toolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  const noParallel = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...noParallel } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...noParallel };
  if (choice === 'required') return { type: 'any', ...noParallel };
  return { type: 'tool', name: choice.function.name, ...noParallel };
}

function positive(n: unknown): number | undefined {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

export function convertToAnthropicRequest(req: ChatRequest, where: Where, settings: AnthropicModelSettings = {}): AnthropicMessageParams {
  if (typeof req.n === 'number' && req.n > 1) {
    throw new ProviderError('n > 1 is not supported by the Anthropic provider (the Messages API returns one choice)', { kind: 'bad_request', status: 400, provider: where.provider, model: where.model, param: 'n' });
  }
  const prompt = convertToAnthropicMessages(req.messages, where);
  const system: string[] = prompt.system ? [prompt.system] : [];
  const clientMax = positive(req.max_completion_tokens) ?? positive(req.max_tokens);
  const maxTokens = clientMax ?? positive(settings.max_tokens) ?? ANTHROPIC_DEFAULT_MAX_TOKENS;

  const params: AnthropicMessageParams = { model: where.model, max_tokens: maxTokens, messages: prompt.messages };

  // Anthropic's temperature range is 0..1, OpenAI's 0..2: values above 1 are clamped to 1.
  if (typeof req.temperature === 'number') params.temperature = Math.min(1, Math.max(0, req.temperature));
  if (typeof req.top_p === 'number') params.top_p = req.top_p;
  if (req.stop != null) {
    const stops = (Array.isArray(req.stop) ? req.stop : [req.stop]).filter((s) => typeof s === 'string' && s.length > 0);
    if (stops.length) params.stop_sequences = stops;
  }
  if (typeof req.user === 'string' && req.user) params.metadata = { user_id: req.user };

  const tools = (req.tools ?? []).filter((t) => t.type === 'function');
  if ((req.tools ?? []).length !== tools.length) {
    const i = (req.tools ?? []).findIndex((t) => t.type !== 'function');
    throw new ProviderError(`tools[${i}].type must be "function" for the Anthropic provider`, { kind: 'bad_request', status: 400, provider: where.provider, model: where.model, param: `tools[${i}].type` });
  }
  if (tools.length) {
    params.tools = tools.map(
      (t): AnthropicTool => ({
        name: t.function.name,
        ...(t.function.description ? { description: t.function.description } : {}),
        input_schema: (t.function.parameters as AnthropicTool['input_schema'] | undefined) ?? { type: 'object', properties: {} },
        // Strict tool inputs need structured-outputs support, which only some models have.
        ...(t.function.strict && settings.structured_outputs ? { strict: true } : {}),
      }),
    );
    const choice = toolChoice(req.tool_choice, req.parallel_tool_calls);
    if (choice) params.tool_choice = choice;
  }

  // Anthropic has no JSON-object mode: JSON output is asked for in the system prompt; a json_schema
  // is also enforced natively on models whose entry says they support structured outputs.
  const format = req.response_format;
  if (format?.type === 'json_object') system.push(JSON_OBJECT_INSTRUCTION);
  else if (format?.type === 'json_schema') {
    const js = format.json_schema;
    system.push(jsonSchemaInstruction(js.name, js.schema, js.description));
    if (settings.structured_outputs && js.schema) params.output_config = { format: { type: 'json_schema', schema: js.schema } };
  }
  if (system.length) params.system = system.join('\n\n');

  // A client may send Anthropic's own `thinking` object; OpenAI's reasoning_effort maps onto a budget.
  const thinking = req.thinking as AnthropicMessageParams['thinking'] | undefined;
  if (thinking && typeof thinking === 'object') params.thinking = thinking;
  else if (typeof req.reasoning_effort === 'string' && req.reasoning_effort !== 'none') {
    const wanted = THINKING_BUDGETS[req.reasoning_effort] ?? THINKING_BUDGETS.medium!;
    if (clientMax === undefined) {
      // No limit from the client: room for the thinking budget on top of the usual answer length.
      params.max_tokens = maxTokens + wanted;
      params.thinking = { type: 'enabled', budget_tokens: wanted };
    } else {
      // The budget counts towards max_tokens and must stay below it (as OpenAI's limit includes reasoning).
      const budget = Math.min(wanted, clientMax - 1);
      if (budget >= THINKING_MIN_BUDGET) params.thinking = { type: 'enabled', budget_tokens: budget };
    }
  }
  if (params.thinking && params.thinking.type !== 'disabled') {
    // Extended thinking rejects a changed temperature and a top_p below 0.95.
    delete params.temperature;
    if (params.top_p !== undefined && params.top_p < 0.95) delete params.top_p;
  }
  return params;
}
