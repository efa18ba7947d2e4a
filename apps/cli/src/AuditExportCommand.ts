/**
 * `encompass audit export`: the record a DPO or an auditor asks for — what was decided, shared,
 * sent, received, corrected, withdrawn, acknowledged and read, for an occurrence, a child (opaque
 * ref) or a recipient (`AuditExport`). It reads the audit log and the outbox's metadata only, so
 * it still works once the children's data is shredded. The export is itself a consultation: it
 * needs `--reason` and is audited (`viewed`), and later exports of the same record list it.
 */
import { Command, Options } from "@effect/cli"
import * as Region from "@encompass/gateway/Region"
import * as RegionConfig from "@encompass/gateway/RegionConfig"
import { Consultation } from "@encompass/audit"
import { AuditExport } from "@encompass/pipeline"
import { Array as Arr, Effect, Option, Schema } from "effect"
import * as RecordOptions from "./RecordOptions.js"

/** Not exactly one of `--occurrence`, `--subject`, `--recipient`. */
export class ExportScopeError extends Schema.TaggedError<ExportScopeError>("@encompass/cli/ExportScopeError")("ExportScopeError", {
  module: Schema.Literal("AuditExportCommand"),
  method: Schema.Literal("export"),
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const scopeOf = (options: {
  readonly occurrence: Option.Option<string>
  readonly subject: Option.Option<string>
  readonly recipient: Option.Option<string>
}): Effect.Effect<AuditExport.Scope, ExportScopeError> => {
  const given = Arr.getSomes<Array<Option.Option<AuditExport.Scope>>>([
    Option.map(options.occurrence, (id) => ({ kind: "occurrence", id })),
    Option.map(options.subject, (id) => ({ kind: "subject", id })),
    Option.map(options.recipient, (id) => ({ kind: "recipient", id }))
  ])
  const [scope] = given
  return given.length === 1 && scope !== undefined
    ? Effect.succeed(scope)
    : Effect.fail(new ExportScopeError({ module: "AuditExportCommand", method: "export", detail: "give exactly one of --occurrence REF, --subject CHILD_REF, --recipient ID" }))
}

export const command = Command.make(
  "export",
  {
    config: Options.file("config", { exists: "yes" }).pipe(Options.withDescription("the region file (YAML)")),
    occurrence: Options.text("occurrence").pipe(Options.optional, Options.withDescription("an occurrence number, e.g. 43/261101/26 (any source)")),
    subject: Options.text("subject").pipe(Options.optional, Options.withDescription("a child's opaque ref (the source's person ref), e.g. P-10011")),
    recipient: Options.text("recipient").pipe(Options.optional, Options.withDescription("a recipient, as `outbox list` shows it, e.g. setting:100001")),
    from: RecordOptions.from,
    to: RecordOptions.to,
    format: RecordOptions.format,
    out: RecordOptions.out,
    operator: RecordOptions.operator,
    reason: RecordOptions.reason
  },
  (options) =>
    Effect.gen(function*() {
      const scope = yield* scopeOf(options)
      const window = yield* RecordOptions.period(options)
      const read = { by: options.operator, reason: options.reason, subject: AuditExport.readSubject(scope) }
      yield* Consultation.check(read)
      const region = yield* RegionConfig.load(options.config)
      // The audit log and the outbox's metadata, never a body: an export reads the same after shredding.
      const record = yield* Consultation.record({ ...read, what: `audit export (${options.format})`, via: "cli" }).pipe(
        Effect.zipRight(AuditExport.build(scope, window)),
        Effect.provide(Region.storageLayer(region))
      )
      yield* RecordOptions.emit(options.format === "html" ? AuditExport.html(record) : JSON.stringify(record, null, 2), options.out)
    })
).pipe(Command.withDescription(
  "export what was decided, sent, received, corrected, withdrawn, acknowledged and read for an occurrence, a child or a recipient (JSON or HTML)"
))
