/**
 * The agreement the pipeline decides under. A region composes it from its agreement file; the
 * policy engine itself stays pure.
 */
import type { Agreement } from "@encompass/isa-policy"
import { Context, Layer } from "effect"

export class ActiveAgreement extends Context.Tag("@encompass/pipeline/ActiveAgreement")<
  ActiveAgreement,
  Agreement.Agreement
>() {
  static readonly layer = (agreement: Agreement.Agreement): Layer.Layer<ActiveAgreement> => Layer.succeed(this, agreement)
}
