/**
 * The agreement the pipeline decides under, and the school calendar its deadlines follow. A
 * region composes them from its files; the policy engine itself stays pure.
 */
import type { Agreement, SchoolCalendar } from "@encompass/isa-policy"
import { Context, Layer } from "effect"

export class ActiveAgreement extends Context.Tag("@encompass/pipeline/ActiveAgreement")<
  ActiveAgreement,
  Agreement.Agreement
>() {
  static readonly layer = (agreement: Agreement.Agreement): Layer.Layer<ActiveAgreement> => Layer.succeed(this, agreement)
}

/**
 * Term dates, INSET days and bank holidays. Optional: without it, an agreement whose deadlines
 * follow a school calendar falls back to weekdays, which can only make a deadline earlier.
 */
export class ActiveCalendar extends Context.Tag("@encompass/pipeline/ActiveCalendar")<
  ActiveCalendar,
  SchoolCalendar.SchoolCalendar
>() {
  static readonly layer = (calendar: SchoolCalendar.SchoolCalendar): Layer.Layer<ActiveCalendar> => Layer.succeed(this, calendar)
}
