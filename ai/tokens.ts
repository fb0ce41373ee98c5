// How many tokens a prompt costs, estimated without a tokenizer. It errs high on purpose: a
// window sized from it must hold the real prompt. About 3.5 characters a token for ASCII (BPE
// vocabularies average nearer 4 on English and logs) and 1.25 a character for other text (CJK is
// one or two tokens a character), plus each chat message's framing.
const MESSAGE_FRAMING_TOKENS = 8;

export function estimateTokens(text: string): number {
  let ascii = 0;
  let other = 0;
  for (const char of text) {
    if (char.charCodeAt(0) < 128) ascii++;
    else other++;
  }
  return Math.ceil(ascii / 3.5 + other * 1.25);
}

/** A system instruction and a user message, as a chat template frames them. */
export function estimatePromptTokens(prompt: { system: string; user: string }): number {
  return estimateTokens(prompt.system) + estimateTokens(prompt.user) + 2 * MESSAGE_FRAMING_TOKENS + 4;
}
