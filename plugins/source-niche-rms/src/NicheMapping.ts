/**
 * The declarative field mapping with which a force whose export differs from the default Niche
 * layout adapts it in config rather than in code (DESIGN.md §3): its column names, date formats,
 * codes and delimiter. The default (`{}`) is the layout the README documents. The annotations are
 * the documentation: the README's config table is checked against them.
 */
import { Child, Incident, YamlSource } from "@encompass/domain"
import { Either, ParseResult, Schema } from "effect"
import type { CodedColumn, Column } from "./internal/Columns.js"
import { columns } from "./internal/Columns.js"
import * as DateFormat from "./internal/DateFormat.js"
import { NicheMappingError, NicheMappingIssue } from "./NicheMappingError.js"

/** A message that replaces those of the rules beneath it (a union's, a refinement's). */
const says = (message: string) => ({ message: () => ({ message, override: true }) })

const ColumnName = Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200)).annotations(
  says("expected a column name: not empty, no spaces around it, at most 200 characters")
)

const Columns = Schema.partialWith(Schema.Record({ key: Schema.Literal(...columns), value: ColumnName }), { exact: true })

const datePattern = (withTime: boolean) =>
  Schema.String.pipe(
    Schema.filter(
      (pattern) => {
        const compiled = DateFormat.compile(pattern, withTime)
        return typeof compiled === "string" ? compiled : true
      },
      // A pattern's rules are more than JSON Schema can say; it shows as a string with its docs.
      { jsonSchema: {} }
    )
  )

/** Codes folded for comparison: a cell matches a code whatever its case and surrounding spaces. */
export const foldCode = (code: string): string => code.trim().toUpperCase()

const codes = <A extends string>(target: Schema.Schema<A>, expected: string) =>
  Schema.Record({ key: Schema.String, value: target.annotations(says(`expected ${expected}`)) }).pipe(
    Schema.filter((map) => {
      const keys = Object.keys(map)
      if (keys.length === 0) return "expected at least one code"
      const seen = new Map<string, string>()
      const issues: Array<Schema.FilterIssue> = []
      for (const key of keys) {
        const folded = foldCode(key)
        const other = seen.get(folded)
        if (folded === "") issues.push({ path: [key], message: "a code may not be blank" })
        else if (other !== undefined) issues.push({ path: [key], message: `is the same code as ${JSON.stringify(other)} (codes ignore case)` })
        seen.set(folded, key)
      }
      return issues
    })
  )

const Values = Schema.Struct({
  incident_category: Schema.optionalWith(codes(Incident.IncidentCategory, "domestic, missing-episode or other"), { exact: true }),
  presence: Schema.optionalWith(codes(Child.Presence, "present, witness or not-present"), { exact: true }),
  risk_grading: Schema.optionalWith(codes(Child.RiskGrading, "standard, medium or high"), { exact: true }),
  sensitive: Schema.optionalWith(codes(Schema.Literal("Y", "N"), "Y or N"), { exact: true })
})

const Delimiter = Schema.transform(Schema.Literal(",", ";", "\t", "tab"), Schema.Literal(",", ";", "\t"), {
  strict: true,
  decode: (delimiter) => (delimiter === "tab" ? "\t" : delimiter),
  encode: (delimiter) => delimiter
}).annotations(says(`expected ",", ";" or "tab"`))

const UrnSeparator = Schema.String.pipe(
  Schema.filter((separator) => /^[^\p{L}\p{N}\s"]$/u.test(separator), says("expected one character that is not a letter, digit, space or quote"))
)

const fields = Schema.Struct({
  version: Schema.optionalWith(Schema.Literal(1), { exact: true, default: () => 1 as const }).annotations({
    description: "Version of this mapping's schema",
    examples: [1]
  }),
  delimiter: Schema.optionalWith(Delimiter, { exact: true, default: () => "," as const }).annotations({
    description: "What separates the cells of a row: `,`, `;` or `tab`; a cell holding it is quoted",
    examples: [";"]
  }),
  headerCaseInsensitive: Schema.optionalWith(Schema.Boolean, { exact: true, default: () => false }).annotations({
    description: "Whether the header's column names match whatever their case (surrounding spaces are always ignored)",
    examples: [true]
  }),
  columns: Schema.optionalWith(Columns, { exact: true, default: () => ({}) }).annotations({
    description: "The force's name for each column, keyed by the canonical name; a column not listed keeps its canonical name",
    examples: [{ occurrence_number: "OccurrenceRef", child_dob: "DOB" }]
  }),
  ignoreColumns: Schema.optionalWith(Schema.Array(ColumnName), { exact: true, default: () => [] }).annotations({
    description: "Columns of the force's export that are read past and never decoded; any other unknown column refuses the header",
    examples: [["OfficerNotes"]]
  }),
  dateFormat: Schema.optionalWith(datePattern(false), { exact: true, default: () => "yyyy-MM-dd" }).annotations({
    description: "Pattern of the date of birth: yyyy, MM or M, dd or d, other characters as they are",
    examples: ["dd/MM/yyyy"]
  }),
  // Annotated on the value: an optional key without a default keeps no annotations of its own.
  dateTimeFormat: Schema.optionalWith(
    datePattern(true).annotations({
      description:
        "Pattern of the incident's date and time, read as UK local time: the date letters and HH or H, mm, ss, with literal letters quoted ('T'); when absent, ISO 8601 as in the default layout (UK local time, or with an offset)",
      examples: ["dd/MM/yyyy HH:mm"]
    }),
    { exact: true }
  ),
  urnSeparator: Schema.optionalWith(UrnSeparator, { exact: true, default: () => ";" }).annotations({
    description: "What separates the URNs of a dual-registered child within one cell",
    examples: ["|"]
  }),
  values: Schema.optionalWith(Values, { exact: true, default: () => ({}) }).annotations({
    description:
      "Value maps for coded columns (incident_category, presence, risk_grading, sensitive): the force's code, matched whatever its case, to the default layout's value; a column with a map accepts only its codes",
    examples: [{ presence: { P: "present", W: "witness", N: "not-present" }, sensitive: { Yes: "Y", No: "N" } }]
  })
})

/** The name each canonical column has in the force's export. */
const names = (mapping: typeof fields.Type): ReadonlyArray<readonly [Column, string]> =>
  columns.map((column) => [column, mapping.columns[column] ?? column] as const)

/** Two columns, or a column and an ignored one, may not share a name: the header could not tell them apart. */
const distinctNames = (mapping: typeof fields.Type): ReadonlyArray<Schema.FilterIssue> => {
  const fold = (name: string) => (mapping.headerCaseInsensitive ? name.toLowerCase() : name)
  const seen = new Map<string, { readonly label: string; readonly path: ReadonlyArray<string | number> | undefined }>()
  const issues: Array<Schema.FilterIssue> = []
  const entries = [
    ...names(mapping).map(([column, name]) => ({
      name,
      label: `column ${column}`,
      path: mapping.columns[column] === undefined ? undefined : ["columns", column]
    })),
    ...mapping.ignoreColumns.map((name, i) => ({ name, label: "an ignored column", path: ["ignoreColumns", i] }))
  ]
  for (const entry of entries) {
    const other = seen.get(fold(entry.name))
    if (other === undefined) {
      seen.set(fold(entry.name), entry)
      continue
    }
    // Point at whichever of the two the mapping wrote; an unmapped column only has its default name.
    const path = entry.path ?? other.path ?? []
    issues.push({ path, message: `${JSON.stringify(entry.name)} names both ${other.label} and ${entry.label}` })
  }
  return issues
}

export class NicheMapping extends Schema.Class<NicheMapping>("NicheMapping")(
  fields.pipe(Schema.filter(distinctNames)).annotations({
    title: "Niche RMS field mapping",
    description: "How a force's Niche export differs from the default layout: column names, date formats, codes and delimiter"
  })
) {
  /** The force's name for a canonical column. */
  nameOf(column: Column): string {
    return this.columns[column] ?? column
  }

  /** The value map of a coded column, if the mapping gives one. */
  codesOf(column: CodedColumn): Readonly<Record<string, string>> | undefined {
    return this.values[column]
  }
}

/** Today's layout: the README's column names, ISO dates, `,` between cells. */
export const defaultMapping: NicheMapping = new NicheMapping({})

const decodeMapping = Schema.decodeUnknownEither(NicheMapping, { errors: "all", onExcessProperty: "error" })

/**
 * Reads a mapping file's YAML text. Every problem is reported with its key path, line and column,
 * so the person editing the file can find it; unknown keys are errors, not silently ignored.
 * An empty file is the default mapping.
 */
export const fromYaml = (text: string): Either.Either<NicheMapping, NicheMappingError> => {
  const source = YamlSource.read(text)
  if (source.problems.length > 0) {
    return Either.left(new NicheMappingError({ method: "fromYaml", reason: "Syntax", issues: issues(source.problems) }))
  }
  const value = source.value ?? {}
  if (typeof value !== "object" || Array.isArray(value)) {
    const problem = { path: "", line: 1, column: 1, message: "expected a mapping of keys to values (`delimiter: \";\"` …)" }
    return Either.left(new NicheMappingError({ method: "fromYaml", reason: "InvalidConfig", issues: issues([problem]) }))
  }
  return Either.mapLeft(decodeMapping(value), (error) => {
    const problems = YamlSource.issuesOf(source, ParseResult.ArrayFormatter.formatErrorSync(error))
    return new NicheMappingError({ method: "fromYaml", reason: "InvalidConfig", issues: issues(problems) })
  })
}

const issues = (problems: ReadonlyArray<YamlSource.Problem>): readonly [NicheMappingIssue, ...Array<NicheMappingIssue>] => {
  const [first = { path: "", line: 1, column: 1, message: "is not a field mapping" }, ...rest] = problems
  return [new NicheMappingIssue(first), ...rest.map((p) => new NicheMappingIssue(p))]
}
