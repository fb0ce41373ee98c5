// Typed callback data for the incident card buttons: `v1:<verb>:<id>`, where the id points at a
// stored incident row, and for the choices a button offers next (snooze and silence durations,
// cancel): `v1:<verb>:<id>:<arg>`. Approve and Reject carry the proposed action the card showed
// (`#` + its id in base 36), so a press on a card drawn before the proposal changed acts on
// nothing rather than on an action its presser never saw. Handlers unpack with
// `unpackCallbackData` and never match on raw strings.
import { z } from "zod";
import { CARD_VERBS, type CardVerb, VERBS_WITH_ACTION, type CardButton } from "../../domain/card.js";

export const CALLBACK_DATA_VERSION = "v1";

/** Telegram rejects a button whose callback_data exceeds 64 bytes (BUTTON_DATA_INVALID). */
export const MAX_CALLBACK_DATA_BYTES = 64;

const SEPARATOR = ":";

/** Verbs whose button opens a choice; only these carry a 4th part. */
export const VERBS_WITH_CHOICES: readonly CardVerb[] = ["snooze", "silence"];

// At most 4 characters: "v1:silence:" + a 48-character id + ":" + 4 is exactly 64 bytes.
const ArgSchema = z.string().regex(/^[a-z0-9]{1,4}$/);

// "#" + an action id in base 36 (up to 78 billion); the packed total must still fit 64 bytes.
const ActionArgSchema = z.string().regex(/^#[0-9a-z]{1,7}$/);

/** The 4th part of an Approve or Reject button for action `id`. */
export function actionArg(id: number): string {
  return `#${id.toString(36)}`;
}

/** The action id an Approve or Reject button carries, if any. */
export function actionIdOf(data: CallbackData): number | undefined {
  if (data.arg === undefined || !VERBS_WITH_ACTION.includes(data.verb)) return undefined;
  const id = Number.parseInt(data.arg.slice(1), 36);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

const CallbackDataSchema = z
  .strictObject({
    verb: z.enum(CARD_VERBS),
    // Incident ids such as "INC-20260329-0001"; the character set excludes the separator.
    id: z.string().regex(/^[A-Za-z0-9_-]{1,48}$/),
    // A choice after the first press: "15m", "2h", "no" (cancel); or "#<action id>" on Approve/Reject.
    arg: z.union([ArgSchema, ActionArgSchema]).optional(),
  })
  .refine(
    (data) =>
      data.arg === undefined ||
      (VERBS_WITH_CHOICES.includes(data.verb) && ArgSchema.safeParse(data.arg).success) ||
      (VERBS_WITH_ACTION.includes(data.verb) && ActionArgSchema.safeParse(data.arg).success),
    { message: "only snooze and silence take a choice, only approve and reject an action" },
  );

const PackedSchema = z.union([
  z.tuple([z.literal(CALLBACK_DATA_VERSION), z.enum(CARD_VERBS), z.string()]),
  z.tuple([z.literal(CALLBACK_DATA_VERSION), z.enum(CARD_VERBS), z.string(), z.string()]),
]);

export interface CallbackData {
  verb: CardVerb;
  id: string;
  /** The choice made on a follow-up keyboard (snooze and silence), or the action (approve and reject). */
  arg?: string;
}

export type CallbackDataErrorCode = "CALLBACK_DATA_INVALID" | "CALLBACK_DATA_TOO_LONG";

export class CallbackDataError extends Error {
  override readonly name = "CallbackDataError";

  constructor(
    readonly code: CallbackDataErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Throws `CALLBACK_DATA_TOO_LONG` when Telegram would refuse `data` as a button's callback_data. */
export function assertCallbackDataFits(data: string): void {
  const bytes = Buffer.byteLength(data, "utf8");
  if (bytes > MAX_CALLBACK_DATA_BYTES) {
    throw new CallbackDataError(
      "CALLBACK_DATA_TOO_LONG",
      `callback data is ${bytes} bytes, Telegram allows ${MAX_CALLBACK_DATA_BYTES}`,
    );
  }
}

/**
 * The callback data of a card's button: `v1:<verb>:<incident id>`, and on Approve and Reject the
 * proposal the card shows (`:#<id>`). An incident id too long to name the proposal as well falls
 * back to "whatever is pending".
 */
export function cardButtonData(incidentId: string, button: CardButton): string {
  if (button.actionId !== undefined && VERBS_WITH_ACTION.includes(button.verb)) {
    const named = { verb: button.verb, id: incidentId, arg: actionArg(button.actionId) };
    if (Buffer.byteLength(`v1:${named.verb}:${incidentId}:${named.arg}`) <= MAX_CALLBACK_DATA_BYTES)
      return packCallbackData(named);
  }
  return packCallbackData({ verb: button.verb, id: incidentId });
}

/** `{ verb: "approve", id: "INC-20260329-0001" }` → `"v1:approve:INC-20260329-0001"`. */
export function packCallbackData(data: CallbackData): string {
  const parsed = CallbackDataSchema.safeParse(data);
  if (!parsed.success) {
    throw new CallbackDataError(
      "CALLBACK_DATA_INVALID",
      `invalid callback data: ${z.prettifyError(parsed.error)}`,
    );
  }
  const { verb, id, arg } = parsed.data;
  const packed = [CALLBACK_DATA_VERSION, verb, id, ...(arg === undefined ? [] : [arg])].join(SEPARATOR);
  assertCallbackDataFits(packed);
  return packed;
}

/** The inverse of `packCallbackData`; `undefined` for anything it would not have produced. */
export function unpackCallbackData(data: string): CallbackData | undefined {
  if (Buffer.byteLength(data, "utf8") > MAX_CALLBACK_DATA_BYTES) return undefined;
  const packed = PackedSchema.safeParse(data.split(SEPARATOR));
  if (!packed.success) return undefined;
  const [, verb, id, arg] = packed.data;
  const parsed = CallbackDataSchema.safeParse({ verb, id, ...(arg === undefined ? {} : { arg }) });
  if (!parsed.success) return undefined;
  // Approve and Reject name a proposal the bot made (`#<id>`, id ≥ 1): `#0` or `#x!` names none,
  // and must not fall back to "whatever is pending" like a card too old to name one
  if (
    parsed.data.arg !== undefined &&
    VERBS_WITH_ACTION.includes(parsed.data.verb) &&
    actionIdOf({ verb: parsed.data.verb, id: parsed.data.id, arg: parsed.data.arg }) === undefined
  )
    return undefined;
  return {
    verb: parsed.data.verb,
    id: parsed.data.id,
    ...(parsed.data.arg === undefined ? {} : { arg: parsed.data.arg }),
  };
}
