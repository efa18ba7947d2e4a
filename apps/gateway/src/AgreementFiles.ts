/**
 * Agreement, baseline and calendar files for the commands. Every agreement is loaded against the
 * statutory baseline, so a file that would loosen it is refused with the rule named, wherever it
 * is used. Errors name the file, key path and line, never a value from a feed.
 */
import type { Agreement, AgreementError } from "@encompass/isa-policy"
import { Agreement as AgreementFile, Baseline, SchoolCalendar } from "@encompass/isa-policy"
import { Effect, Schema } from "effect"
import { createRequire } from "node:module"
import * as fs from "node:fs/promises"

const shipped = (file: string) => createRequire(import.meta.url).resolve(`@encompass/isa-policy/${file}`)

/** The Thames Valley Police schools agreement shipped with isa-policy. */
export const defaultAgreementFile = shipped("agreements/tvp-schools.yaml")
/** The statutory duty (Domestic Abuse Act 2021 s.49A) as an agreement every other may only tighten. */
export const baselineFile = shipped("agreements/statutory-baseline.yaml")
export const calendarFile = shipped("calendars/england-2025-2027.yaml")

export class PolicyFileError extends Schema.TaggedError<PolicyFileError>()("PolicyFileError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

export const readText = (file: string) =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: () => new PolicyFileError({ detail: `cannot read ${file}` })
  })

export const issueLine = (i: AgreementError.AgreementIssue) =>
  `  line ${i.line}, column ${i.column}  ${i.path === "" ? "(document)" : i.path}${i.rule === undefined ? "" : ` [${i.rule}]`}: ${i.message}`

const refused = (file: string) => (error: AgreementError.AgreementError) =>
  new PolicyFileError({ detail: [`${file} cannot be used:`, ...error.issues.map(issueLine)].join("\n") })

/** The baseline itself, checked only against its own schema. */
export const loadBaseline = (file: string): Effect.Effect<Agreement.Agreement, PolicyFileError> =>
  Effect.flatMap(readText(file), (text) => Effect.mapError(AgreementFile.parse(text), refused(file)))

export const loadAgreement = (file: string, baseline: Agreement.Agreement): Effect.Effect<Agreement.Agreement, PolicyFileError> =>
  Effect.flatMap(readText(file), (text) => Effect.mapError(Baseline.load(text, baseline), refused(file)))

export const loadCalendar = (file: string): Effect.Effect<SchoolCalendar.SchoolCalendar, PolicyFileError> =>
  Effect.flatMap(readText(file), (text) => Effect.mapError(SchoolCalendar.parse(text), refused(file)))
