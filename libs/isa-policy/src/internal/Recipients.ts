/** How a domain Recipient maps onto an agreement's recipient rules. */
import type { Recipient } from "@encompass/domain"
import { Option } from "effect"
import type { Agreement, RecipientKindRule } from "../Agreement.js"

const kinds = { Setting: "setting", EheTeam: "ehe-team", CouncilFrontDoor: "council-front-door" } as const
type Kind = (typeof kinds)[keyof typeof kinds]

/** What rationales call recipients of a kind. */
export const label: Record<Kind, string> = {
  setting: "schools and colleges",
  "ehe-team": "the elective home education team",
  "council-front-door": "the council's children's front door"
}

export const kindOf = (recipient: Recipient.Recipient): Kind => kinds[recipient._tag]

/** The rule for this recipient's kind, if the agreement covers that kind at all. */
export const kindRule = (agreement: Agreement, recipient: Recipient.Recipient): Option.Option<RecipientKindRule> =>
  Option.fromNullable(agreement.recipients.kinds.find((rule) => rule.kind === kindOf(recipient)))
