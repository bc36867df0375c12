/**
 * @module An OpenAI chat request → an Ollama `/api/chat` body: messages, tools, `format` for
 * response_format, sampling settings in `options`, and `think` from reasoning_effort.
 *
 * Ollama has no tool_choice: "none" is honoured by not offering the tools, a named function by
 * offering only that one; "required" cannot be forced and is sent as "auto".
 */
import type { ChatRequest, ToolDefinition } from '../provider-adapter.js';
import { ProviderError } from '../provider-error.js';
import { convertToOllamaMessages, type ConvertContext } from './convert-to-ollama-messages.js';
import type { OllamaChatRequest, OllamaOptions, OllamaThink, OllamaTool } from './ollama-api.js';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Ollama `options`: the model's `options` from providers.json (e.g. `num_ctx`), then any `options`
 * the client sent (Ollama's own field, via extra body), then the OpenAI settings, which win.
 */
function toOptions(req: ChatRequest, modelOptions: Record<string, unknown> | undefined): OllamaOptions | undefined {
  // Object.assign, not two spreads: see copy-with.ts.
  const o: OllamaOptions & Record<string, unknown> = Object.assign({}, modelOptions, isPlainObject(req.options) ? req.options : {});
  const maxTokens = num(req.max_completion_tokens) ?? num(req.max_tokens);
  if (maxTokens !== undefined) o.num_predict = maxTokens;
  if (num(req.temperature) !== undefined) o.temperature = req.temperature as number;
  if (num(req.top_p) !== undefined) o.top_p = req.top_p as number;
  if (typeof req.stop === 'string') o.stop = [req.stop];
  else if (Array.isArray(req.stop) && req.stop.length) o.stop = req.stop;
  if (num(req.seed) !== undefined) o.seed = req.seed as number;
  if (num(req.frequency_penalty) !== undefined) o.frequency_penalty = req.frequency_penalty as number;
  if (num(req.presence_penalty) !== undefined) o.presence_penalty = req.presence_penalty as number;
  return Object.keys(o).length ? o : undefined;
}

function toFormat(req: ChatRequest): OllamaChatRequest['format'] {
  const rf = req.response_format;
  if (!rf) return undefined;
  if (rf.type === 'json_object') return 'json';
  if (rf.type === 'json_schema') return rf.json_schema?.schema ?? 'json';
  return undefined;
}

function toTool(t: ToolDefinition): OllamaTool {
  const { name, description, parameters } = t.function;
  return { type: 'function', function: { name, ...(description ? { description } : {}), parameters: parameters ?? { type: 'object', properties: {} } } };
}

function toTools(req: ChatRequest, c: ConvertContext): OllamaTool[] | undefined {
  const tools = (req.tools ?? []).filter((t) => t.type === 'function');
  if (!tools.length || req.tool_choice === 'none') return undefined;
  const choice = req.tool_choice;
  if (choice && typeof choice === 'object') {
    const named = tools.filter((t) => t.function.name === choice.function.name);
    if (!named.length) {
      throw new ProviderError(`tool_choice names '${choice.function.name}', which is not in tools`, { kind: 'bad_request', status: 400, provider: c.provider, model: c.ctx.model, param: 'tool_choice' });
    }
    return named.map(toTool);
  }
  return tools.map(toTool);
}

/** OpenAI's reasoning_effort on Ollama's `think` scale (as Ollama's own OpenAI layer maps it). */
function toThink(req: ChatRequest): OllamaThink | undefined {
  if (typeof req.think === 'boolean') return req.think;
  if (req.think === 'low' || req.think === 'medium' || req.think === 'high') return req.think;
  switch (req.reasoning_effort) {
    case 'none':
      return false;
    case 'minimal':
    case 'low':
      return 'low';
    case 'medium':
      return 'medium';
    case 'high':
    case 'xhigh':
      return 'high';
    default:
      return undefined;
  }
}

export async function convertToOllamaRequest(
  req: ChatRequest,
  stream: boolean,
  c: ConvertContext,
  modelOptions?: Record<string, unknown>,
): Promise<OllamaChatRequest> {
  // Tools first: a bad tool_choice should fail before any image is fetched.
  const tools = toTools(req, c);
  const body: OllamaChatRequest = { model: c.ctx.model, messages: await convertToOllamaMessages(req.messages, c), stream };
  if (tools) body.tools = tools;
  const format = toFormat(req);
  if (format !== undefined) body.format = format;
  const options = toOptions(req, modelOptions);
  if (options) body.options = options;
  const think = toThink(req);
  if (think !== undefined) body.think = think;
  if (typeof req.keep_alive === 'string' || typeof req.keep_alive === 'number') body.keep_alive = req.keep_alive;
  return body;
}
