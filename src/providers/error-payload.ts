/** The body of an upstream's error answer: parsed JSON when it is JSON, else its text as the message. */
export async function errorPayload(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => '');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
